;; command_log.wat - a command using wasmd.log; wasmd.timer_start answers
;; ENOTSUP (5) to a command, which has no handler to call.
(module
  (import "wasmd" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasmd" "timer_start" (func $timer_start (param i32 i32 i32) (result i32)))
  (memory 1)
  (data (i32.const 0) "from a command\nsecond line")
  (data (i32.const 32) "enotsup ok")
  (func (export "_start")
    (drop (call $log (i32.const 2) (i32.const 0) (i32.const 26)))
    (if (i32.eq (call $timer_start (i32.const 1) (i32.const 10) (i32.const 1)) (i32.const 5))
      (then (drop (call $log (i32.const 1) (i32.const 32) (i32.const 10)))))))
