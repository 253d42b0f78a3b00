;; errors.wat - WASI calls with bad arguments, each export returning the
;; errno the call gave.  Every guest pointer must be checked before use
;; (EFAULT = 21) and every error must be the exact WASI errno.
;;
;; Run each with `wasmctl run --invoke NAME errors.wasm` (no --dir, stdio as
;; given) and compare with the "expect" line above it:
;;   grep -o 'expect [a-z_0-9]* [0-9]*' errors.wat
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_raise" (func $proc_raise (param i32) (result i32)))
  (memory 1)
  ;; "hi\n" at 100, a good iovec for it at 0.
  (data (i32.const 0) "\64\00\00\00\03\00\00\00")
  (data (i32.const 100) "hi\n")
  ;; an iovec at 16 whose buffer runs past the end of memory
  (data (i32.const 16) "\ff\ff\00\00\10\00\00\00")

  ;; expect write_ok 0
  (func (export "write_ok") (result i32) (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 200)))
  ;; expect write_iovs_past_end 21
  (func (export "write_iovs_past_end") (result i32)
    (call $fd_write (i32.const 1) (i32.const 65532) (i32.const 1) (i32.const 200)))
  ;; expect write_buf_past_end 21
  (func (export "write_buf_past_end") (result i32)
    (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 200)))
  ;; expect write_ret_past_end 21
  (func (export "write_ret_past_end") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 65533)))
  ;; expect write_huge_iovs_len 28
  (func (export "write_huge_iovs_len") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x7fffffff) (i32.const 200)))
  ;; expect write_bad_fd 8
  (func (export "write_bad_fd") (result i32) (call $fd_write (i32.const 99) (i32.const 0) (i32.const 1) (i32.const 200)))
  ;; expect write_negative_fd 8
  (func (export "write_negative_fd") (result i32) (call $fd_write (i32.const -1) (i32.const 0) (i32.const 1) (i32.const 200)))
  ;; expect read_into_past_end 21
  (func (export "read_into_past_end") (result i32)
    (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 200)))
  ;; expect args_sizes_past_end 21
  (func (export "args_sizes_past_end") (result i32) (call $args_sizes_get (i32.const 65535) (i32.const 0)))
  ;; expect args_get_past_end 21
  (func (export "args_get_past_end") (result i32) (call $args_get (i32.const 0) (i32.const 65535)))
  ;; expect random_past_end 21
  (func (export "random_past_end") (result i32) (call $random_get (i32.const 65000) (i32.const 1000)))
  ;; expect random_all 0
  (func (export "random_all") (result i32) (call $random_get (i32.const 0) (i32.const 65536)))
  ;; expect random_wraps 21
  (func (export "random_wraps") (result i32) (call $random_get (i32.const -1) (i32.const 2)))
  ;; expect clock_bad_id 28
  (func (export "clock_bad_id") (result i32) (call $clock_time_get (i32.const 99) (i64.const 0) (i32.const 0)))
  ;; expect clock_ret_past_end 21
  (func (export "clock_ret_past_end") (result i32) (call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 65529)))
  ;; expect prestat_no_preopen 8
  (func (export "prestat_no_preopen") (result i32) (call $fd_prestat_get (i32.const 3) (i32.const 0)))
  ;; expect close_twice 8
  (func (export "close_twice") (result i32)
    (drop (call $fd_close (i32.const 0)))
    (call $fd_close (i32.const 0)))
  ;; expect seek_bad_whence 28
  (func (export "seek_bad_whence") (result i32) (call $fd_seek (i32.const 1) (i64.const 0) (i32.const 7) (i32.const 200)))
  ;; expect fdstat_past_end 21
  (func (export "fdstat_past_end") (result i32) (call $fd_fdstat_get (i32.const 1) (i32.const 65520)))
  ;; expect open_on_stdout 76
  (func (export "open_on_stdout") (result i32)
    (call $path_open (i32.const 1) (i32.const 0) (i32.const 100) (i32.const 2) (i32.const 0)
                     (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 200)))
  ;; expect poll_none 28
  (func (export "poll_none") (result i32) (call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 200)))
  ;; expect poll_past_end 21
  (func (export "poll_past_end") (result i32) (call $poll_oneoff (i32.const 65500) (i32.const 0) (i32.const 1) (i32.const 200)))
  ;; expect raise_not_yet 52
  (func (export "raise_not_yet") (result i32) (call $proc_raise (i32.const 6)))
)
