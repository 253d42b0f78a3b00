;; recurse.wat - recurses without end: the instance's call-depth limit
;; turns that into a "call stack exhausted" trap, not a daemon crash.
(module
  (func $down (param i64) (result i64)
    (i64.add (call $down (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
  (func (export "_start") (drop (call $down (i64.const 0)))))
