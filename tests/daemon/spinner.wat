;; spinner.wat - computes forever without calling the host: only fuel
;; stops it, so the daemon must preempt it at the end of each time slice.
(module
  (memory (export "memory") 1)
  (func $spin (export "_start")
    (local $i i64)
    (loop $forever
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $forever))))
