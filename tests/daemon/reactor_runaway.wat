;; reactor_runaway.wat - a reactor whose wasmd_shutdown logs a line, then
;; computes forever: the daemon must cut it off after stop_timeout_ms.
(module
  (import "wasmd" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "shutdown begins")
  (func (export "wasmd_init"))
  (func (export "wasmd_shutdown")
    (drop (call $log (i32.const 2) (i32.const 0) (i32.const 15)))
    (loop $forever
      (br $forever))))
