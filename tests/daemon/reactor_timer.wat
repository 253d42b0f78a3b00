;; reactor_timer.wat - a reactor: wasmd_init checks the error codes of the
;; wasmd imports, arms timer 7 every 50 ms and timer 1 once after 120 ms;
;; wasmd_on_timer logs "tick" (timer 7) or "once" (timer 1); wasmd_shutdown
;; logs that it ran.
(module
  (import "wasmd" "timer_start" (func $timer_start (param i32 i32 i32) (result i32)))
  (import "wasmd" "timer_stop" (func $timer_stop (param i32) (result i32)))
  (import "wasmd" "log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "tick")
  (data (i32.const 16) "once")
  (data (i32.const 32) "shutdown handler ran")
  (data (i32.const 64) "error codes ok")
  (data (i32.const 80) "error codes wrong")
  (func $say (param $p i32) (param $n i32)
    (drop (call $log (i32.const 1) (local.get $p) (local.get $n))))
  (func (export "wasmd_init") (result i32)
    ;; EFAULT (2): text past the memory; EINVAL (1): a repeating 0 ms timer,
    ;; an unknown log level; ENOENT (3): stopping a timer never armed.
    (if (i32.and
          (i32.and
            (i32.eq (call $log (i32.const 1) (i32.const 0xfffffff0) (i32.const 100)) (i32.const 2))
            (i32.eq (call $timer_start (i32.const 9) (i32.const 0) (i32.const 1)) (i32.const 1)))
          (i32.and
            (i32.eq (call $timer_stop (i32.const 99)) (i32.const 3))
            (i32.eq (call $log (i32.const 9) (i32.const 0) (i32.const 4)) (i32.const 1))))
      (then (call $say (i32.const 64) (i32.const 14)))
      (else (call $say (i32.const 80) (i32.const 17))))
    (drop (call $timer_start (i32.const 7) (i32.const 50) (i32.const 1)))
    (drop (call $timer_start (i32.const 1) (i32.const 120) (i32.const 0)))
    (i32.const 0))
  (func (export "wasmd_on_timer") (param $id i32)
    (if (i32.eq (local.get $id) (i32.const 7))
      (then (call $say (i32.const 0) (i32.const 4)))
      (else (call $say (i32.const 16) (i32.const 4)))))
  (func (export "wasmd_shutdown")
    (call $say (i32.const 32) (i32.const 20))))
