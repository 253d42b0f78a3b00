;; values.wat - exports for checking `wasmctl run --invoke` by hand or from
;; the integration tests: argument parsing, result printing, traps, fuel.
;;
;;   wasmctl run --invoke add values.wasm -1 4294967295   -> -2
;;   wasmctl run --invoke f32 values.wasm -0              -> -0
;;   wasmctl run --invoke f64 values.wasm nan:0x1         -> nan:0x1
;;   wasmctl run --invoke divmod values.wasm 7 2          -> 3 and 1, one per line
;;   wasmctl run --invoke crash values.wasm               -> trap, exit status 134
;;   wasmctl run --fuel 1000 --invoke spin values.wasm    -> out of fuel, exit status 124
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i64 i64) (result i64)
    (i64.add (local.get 0) (local.get 1)))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "f32_bits") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))
  (func (export "f64_bits") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))
  (func (export "divmod") (param i32 i32) (result i32 i32)
    (i32.div_s (local.get 0) (local.get 1))
    (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "nothing"))
  (func (export "null") (result externref) (ref.null extern))
  (func (export "is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func $inner (param i32) (result i32)
    (i32.div_u (i32.const 1) (local.get 0)))
  (func $middle (param i32) (result i32)
    (call $inner (local.get 0)))
  ;; Divides by zero two calls deep, for the backtrace.
  (func (export "crash") (result i32)
    (call $middle (i32.const 0)))
  (func (export "spin")
    (loop $l (br $l)))
  (global (export "g") i32 (i32.const 7))
)
