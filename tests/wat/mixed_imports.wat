;; Imports from WASI and from another module, for wasi_ctx_link_partial.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func (result i32)))
  (import "env" "host_thing" (func (param i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))))
