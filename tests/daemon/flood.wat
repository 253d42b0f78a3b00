;; flood.wat - writes short lines to stdout as fast as it can, forever
;; (its pipe full, a write fails with EAGAIN and it just tries again).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: the 8 bytes of text at 16
  (data (i32.const 0) "\10\00\00\00\08\00\00\00")
  (data (i32.const 16) "flood!!\0a")
  (func (export "_start")
    (loop $forever
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (br $forever))))
