;; reactor_trap.wat - a reactor whose timer handler logs a line, then traps
;; (unreachable) in a named function.  Its wasmd_init returns nothing.
(module
  (import "wasmd" "timer_start" (func $timer_start (param i32 i32 i32) (result i32)))
  (import "wasmd" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "handler runs")
  (func (export "wasmd_init")
    (drop (call $timer_start (i32.const 1) (i32.const 20) (i32.const 1))))
  (func $boom
    unreachable)
  (func (export "wasmd_on_timer") (param i32)
    (drop (call $log (i32.const 1) (i32.const 0) (i32.const 12)))
    (call $boom)))
