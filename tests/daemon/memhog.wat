;; memhog.wat - grows its memory until growth fails (the manifest's
;; memory limit), writes to the last page, then traps on purpose.
(module
  (memory 1)
  (func (export "_start")
    (block $full
      (loop $grow
        (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br $grow)))
    (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 42))
    (unreachable)))
