;; suspend.wat - the calls that park in nonblocking mode, for
;; tests/unit/test_wasi_suspend.c.  Memory layout (the test reads it):
;;   0    one subscription (48 bytes), written by $sleep / $poll_stdin
;;   100  the events poll_oneoff writes (32 bytes each)
;;   200  the number of events
;;   300  an iovec for fd_read: 64 bytes at 400
;;   500  the number of bytes read
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "\90\01\00\00\40\00\00\00")

  ;; poll_oneoff with one relative CLOCK_MONOTONIC subscription of $ns nanoseconds.
  (func (export "sleep") (param $ns i64) (result i32)
    (i64.store (i32.const 0) (i64.const 0x1234))   ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))       ;; tag: clock
    (i32.store (i32.const 16) (i32.const 1))       ;; clock id: monotonic
    (i64.store (i32.const 24) (local.get $ns))     ;; timeout
    (i64.store (i32.const 32) (i64.const 0))       ;; precision
    (i32.store16 (i32.const 40) (i32.const 0))     ;; flags: relative
    (call $poll_oneoff (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))

  ;; poll_oneoff waiting for fd 0 to become readable.
  (func (export "poll_stdin") (result i32)
    (i64.store (i32.const 0) (i64.const 0x5678))
    (i32.store8 (i32.const 8) (i32.const 1))       ;; tag: fd_read
    (i32.store (i32.const 16) (i32.const 0))       ;; fd 0
    (call $poll_oneoff (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))

  ;; fd_read of up to 64 bytes from fd 0.
  (func (export "read") (result i32)
    (call $fd_read (i32.const 0) (i32.const 300) (i32.const 1) (i32.const 500)))
)
