;; reactor_badimport.wat - imports a wasmd function the ABI does not define.
(module
  (import "wasmd" "frobnicate" (func $frob (param i32) (result i32)))
  (func (export "wasmd_init")))
