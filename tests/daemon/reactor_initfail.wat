;; reactor_initfail.wat - wasmd_init reports failure (returns 7).
(module
  (func (export "wasmd_init") (result i32)
    (i32.const 7)))
