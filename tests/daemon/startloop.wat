;; startloop.wat - a start section that loops forever: it must be sliced
;; like any call, not run to completion while the daemon waits.
(module
  (func $loop
    (loop $forever
      (br $forever)))
  (start $loop)
  (func (export "_start")))
