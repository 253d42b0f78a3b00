;; hw_import_i2c.wat - a command that imports wasmd.i2c_open (never called):
;; refused at start unless its manifest grants capabilities.i2c.
(module
  (import "wasmd" "i2c_open" (func $open (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
