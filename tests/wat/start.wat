;; A module whose start function loops for a long time: with
;; wr_instantiate_deferred the embedder runs it in fuel slices.
(module
  (global $done (export "done") (mut i32) (i32.const 0))
  (func $start
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
    (global.set $done (local.get $i)))
  (start $start))
