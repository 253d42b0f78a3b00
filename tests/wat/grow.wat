;; grow.wat - a memory of 1 page growing to its declared maximum of 4, for
;; tests/unit/test_memory.c: contents kept, new pages zero, accesses
;; checked against the current size exactly.
(module
  (memory (export "memory") 1 4)
  (data (i32.const 0) "grow")
  (func (export "grow") (param $n i32) (result i32)
    (memory.grow (local.get $n)))
  (func (export "size") (result i32)
    (memory.size))
  (func (export "load8") (param $a i32) (result i32)
    (i32.load8_u (local.get $a)))
  (func (export "load32") (param $a i32) (result i32)
    (i32.load (local.get $a)))
  (func (export "store8") (param $a i32) (param $v i32)
    (i32.store8 (local.get $a) (local.get $v))))
