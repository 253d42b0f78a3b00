;; sink.wat - WASI calls on the stdio descriptors, for the stdio sink tests
;; of tests/unit/test_memory.c.  Each export returns the WASI errno; results
;; land in memory at 64 (see the test).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $filestat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $renumber (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 3)
  ;; Writes `len` bytes at 1024 to fd as two iovecs (split at half); the count goes to 64.
  (func (export "write") (param $fd i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.shr_u (local.get $len) (i32.const 1)))
    (i32.store (i32.const 8) (i32.add (i32.const 1024) (i32.shr_u (local.get $len) (i32.const 1))))
    (i32.store (i32.const 12) (i32.sub (local.get $len) (i32.shr_u (local.get $len) (i32.const 1))))
    (call $fd_write (local.get $fd) (i32.const 0) (i32.const 2) (i32.const 64)))
  ;; fdstat at 128 (filetype u8 @128, flags u16 @130, rights u64 @136).
  (func (export "fdstat") (param $fd i32) (result i32)
    (call $fdstat (local.get $fd) (i32.const 128)))
  ;; filestat at 256 (64 bytes).
  (func (export "filestat") (param $fd i32) (result i32)
    (call $filestat (local.get $fd) (i32.const 256)))
  (func (export "seek") (param $fd i32) (result i32)
    (call $seek (local.get $fd) (i64.const 0) (i32.const 1) (i32.const 64)))
  (func (export "renumber") (param $from i32) (param $to i32) (result i32)
    (call $renumber (local.get $from) (local.get $to)))
  (func (export "close") (param $fd i32) (result i32)
    (call $close (local.get $fd)))
  ;; One subscription of type `type` (1 read, 2 write) on fd; the event goes to 512, the count to 64.
  (func (export "poll") (param $fd i32) (param $type i32) (result i32)
    (i64.store (i32.const 384) (i64.const 7))
    (i32.store8 (i32.const 392) (local.get $type))
    (i32.store (i32.const 400) (local.get $fd))
    (call $poll (i32.const 384) (i32.const 512) (i32.const 1) (i32.const 64))))
