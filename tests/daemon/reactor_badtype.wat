;; reactor_badtype.wat - exports wasmd_on_timer with the wrong signature.
(module
  (func (export "wasmd_init"))
  (func (export "wasmd_on_timer") (param i64)))
