;; bigmin.wat - declares a 200-page (12.5 MiB) minimum memory: refused at
;; start by a daemon whose memory budget is smaller.
(module
  (memory (export "memory") 200)
  (func (export "_start")))
