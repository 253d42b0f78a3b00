;; hw_import_gpio.wat - a command that imports wasmd.gpio_set (never called):
;; refused at start unless its manifest grants capabilities.gpio.
(module
  (import "wasmd" "gpio_set" (func $set (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
