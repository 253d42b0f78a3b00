;; hw_mic.wat - a microphone reactor.  wasmd_init opens the granted
;; microphone and logs "mic open: RC rate=R period=P"; each
;; wasmd_on_mic_period reads what is queued (up to 8192 frames) and counts
;; frames; after 1 s and after 5 s of audio it logs
;; "audio N s: F frames in C calls, peak P, after W ms", W being the wall
;; time since the microphone was opened (CLOCK_MONOTONIC), so that the test
;; can compare audio time with real time.  A failed read logs "mic read: RC".
;; (Text format rather than C: tests/daemon C files are built as commands.)
;;
;; Memory: 0 handle, 4 wasmd_mic_info (rate, channels, period_frames),
;; 16 frames read, 24 clock, 256.. strings, 512.. the log line, 4096.. audio.
(module
  (import "wasmd" "mic_open" (func $mic_open (param i32 i32) (result i32)))
  (import "wasmd" "mic_read" (func $mic_read (param i32 i32 i32 i32) (result i32)))
  (import "wasmd" "log" (func $log (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 256) "mic open: ")        ;; 10
  (data (i32.const 272) " rate=")            ;; 6
  (data (i32.const 288) " period=")          ;; 8
  (data (i32.const 304) "audio ")            ;; 6
  (data (i32.const 320) " s: ")              ;; 4
  (data (i32.const 336) " frames in ")       ;; 11
  (data (i32.const 352) " calls, peak ")     ;; 13
  (data (i32.const 368) ", after ")          ;; 8
  (data (i32.const 384) " ms")               ;; 3
  (data (i32.const 400) "mic read: ")        ;; 10
  (global $pos (mut i32) (i32.const 0))
  (global $frames (mut i64) (i64.const 0))
  (global $calls (mut i64) (i64.const 0))
  (global $peak (mut i32) (i32.const 0))
  (global $next (mut i32) (i32.const 1))
  (global $t0 (mut i64) (i64.const 0))

  (func $now_ms (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1000) (i32.const 24)))
    (i64.div_u (i64.load (i32.const 24)) (i64.const 1000000)))

  ;; Appends n bytes at p to the line.
  (func $str (param $p i32) (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (i32.const 512) (i32.add (global.get $pos) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $pos (i32.add (global.get $pos) (local.get $n))))

  ;; Appends v in decimal.
  (func $num (param $v i64)
    (local $n i32) (local $i i32)
    ;; digits, least significant first, at 480..
    (loop $digit
      (i32.store8 (i32.add (i32.const 480) (local.get $n))
                  (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $v) (i64.const 10)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.set $i (local.get $n))
    (block $done
      (loop $copy
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (i32.store8 (i32.add (i32.const 512) (global.get $pos)) (i32.load8_u (i32.add (i32.const 480) (local.get $i))))
        (global.set $pos (i32.add (global.get $pos) (i32.const 1)))
        (br $copy))))

  (func $flush
    (drop (call $log (i32.const 1) (i32.const 512) (global.get $pos)))
    (global.set $pos (i32.const 0)))

  (func (export "wasmd_init") (result i32)
    (local $rc i32)
    (local.set $rc (call $mic_open (i32.const 0) (i32.const 4)))
    (call $str (i32.const 256) (i32.const 10))
    (call $num (i64.extend_i32_u (local.get $rc)))
    (call $str (i32.const 272) (i32.const 6))
    (call $num (i64.extend_i32_u (i32.load (i32.const 4))))
    (call $str (i32.const 288) (i32.const 8))
    (call $num (i64.extend_i32_u (i32.load (i32.const 12))))
    (call $flush)
    (if (i32.or (local.get $rc) (i32.ne (i32.load (i32.const 8)) (i32.const 1)))
      (then (return (i32.const 1))))
    (global.set $t0 (call $now_ms))
    (i32.const 0))

  (func (export "wasmd_on_mic_period") (param $h i32) (param $avail i32)
    (local $rc i32) (local $got i32) (local $i i32) (local $s i32)
    (local.set $rc (call $mic_read (local.get $h) (i32.const 4096) (i32.const 8192) (i32.const 16)))
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (if (local.get $rc)
      (then
        (call $str (i32.const 400) (i32.const 10))
        (call $num (i64.extend_i32_u (local.get $rc)))
        (call $flush)
        (return)))
    (local.set $got (i32.load (i32.const 16)))
    (block $done
      (loop $sample
        (br_if $done (i32.ge_u (local.get $i) (local.get $got)))
        (local.set $s (i32.load16_s (i32.add (i32.const 4096) (i32.shl (local.get $i) (i32.const 1)))))
        (if (i32.lt_s (local.get $s) (i32.const 0))
          (then (local.set $s (i32.sub (i32.const 0) (local.get $s)))))
        (if (i32.gt_s (local.get $s) (global.get $peak))
          (then (global.set $peak (local.get $s))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sample)))
    (global.set $frames (i64.add (global.get $frames) (i64.extend_i32_u (local.get $got))))
    (block $logged
      (loop $again
        (br_if $logged (i32.gt_u (global.get $next) (i32.const 5)))
        (br_if $logged (i64.lt_u (global.get $frames)
                                 (i64.mul (i64.extend_i32_u (global.get $next))
                                          (i64.extend_i32_u (i32.load (i32.const 4))))))
        (call $str (i32.const 304) (i32.const 6))
        (call $num (i64.extend_i32_u (global.get $next)))
        (call $str (i32.const 320) (i32.const 4))
        (call $num (global.get $frames))
        (call $str (i32.const 336) (i32.const 11))
        (call $num (global.get $calls))
        (call $str (i32.const 352) (i32.const 13))
        (call $num (i64.extend_i32_u (global.get $peak)))
        (call $str (i32.const 368) (i32.const 8))
        (call $num (i64.sub (call $now_ms) (global.get $t0)))
        (call $str (i32.const 384) (i32.const 3))
        (call $flush)
        (global.set $next (select (i32.const 5) (i32.const 6) (i32.eq (global.get $next) (i32.const 1))))
        (br $again)))))
