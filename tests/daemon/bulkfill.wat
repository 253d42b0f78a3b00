;; bulkfill.wat - fills its 16 MiB memory with memory.fill, forever: one
;; instruction does 16 MiB of work, so only fuel charged by length (and the
;; slice's wall-time bound) keeps it from stalling the daemon.
(module
  (memory (export "memory") 256)
  (func (export "_start")
    (local $v i32)
    (loop $forever
      (memory.fill (i32.const 0) (local.get $v) (i32.const 16777216))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (br $forever))))
