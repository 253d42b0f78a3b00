;; hw_import_mic.wat - a command that imports wasmd.mic_read (never called):
;; refused at start unless its manifest grants capabilities.microphone.
(module
  (import "wasmd" "mic_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
