;; randloop.wat - asks WASI for 64 KiB of random bytes, forever: host calls
;; must be charged by the bytes they move.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (loop $forever
      (drop (call $random_get (i32.const 0) (i32.const 65536)))
      (br $forever))))
