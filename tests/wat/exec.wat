;; Modules for tests/unit/test_interp.c: suspension, fuel, recursion, traps.
(module
  (import "env" "ask" (func $ask (param i32) (result i32)))
  (memory (export "memory") 1)

  ;; Calls the host n times, summing what it answers; a host that suspends
  ;; parks the whole chain each time.
  (func $sum_asks (export "sum_asks") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $ask (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; The same, one wasm frame deeper, to suspend inside nested calls.
  (func (export "nested_asks") (param $n i32) (result i32)
    (i32.add (call $sum_asks (local.get $n)) (i32.const 1000)))

  ;; A loop long enough to run out of fuel many times.
  (func $collatz_steps (export "collatz_total") (param $limit i32) (result i64)
    (local $i i32) (local $x i64) (local $total i64)
    (local.set $i (i32.const 1))
    (block $out
      (loop $each
        (br_if $out (i32.gt_u (local.get $i) (local.get $limit)))
        (local.set $x (i64.extend_i32_u (local.get $i)))
        (block $reached
          (loop $step
            (br_if $reached (i64.eq (local.get $x) (i64.const 1)))
            (if (i64.eqz (i64.and (local.get $x) (i64.const 1)))
              (then (local.set $x (i64.shr_u (local.get $x) (i64.const 1))))
              (else (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.const 1)))))
            (local.set $total (i64.add (local.get $total) (i64.const 1)))
            (br $step)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (local.get $total))

  ;; Recursion to a chosen depth.
  (func $depth (export "depth") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $depth (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))

  (func $runaway (export "runaway") (call $runaway))

  (func $inner_trap (i32.store (i32.const 70000) (i32.const 1)))
  (func $middle (call $inner_trap))
  (func (export "trap_deep") (call $middle))

  (func $fib (export "fib") (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                     (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  ;; Multi-value and a swap through locals, to exercise the translator's copies.
  (func (export "swap") (param i32 i32) (result i32 i32)
    (local.get 1) (local.get 0))
  (func (export "rotate3") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $t i32)
    (local.get $a) ;; stays on the stack while $a is overwritten
    (local.set $t (local.get $a))
    (local.set $a (local.get $b))
    (local.set $b (local.get $c))
    (local.set $c (local.get $t))
    (i32.add (i32.mul (local.get $a) (i32.const 100)) (i32.add (i32.mul (local.get $b) (i32.const 10)) (local.get $c)))
    (i32.mul (i32.const 1000))
    (i32.add))

  ;; The f64 accumulator (runtime/interp.c) must not reach past a branch
  ;; target: the block's result comes from the add on one path (which leaves
  ;; x + 1 in the accumulator) and from the br_if on the other (where the
  ;; accumulator holds 5x, not the x branched with).  (p=1, x=2) -> 6, (0, 2) -> 9.
  (func (export "acc_join") (param $p i32) (param $x f64) (result f64)
    (local $t f64)
    (block (result f64)
      (local.set $t (f64.mul (local.get $x) (f64.const 5)))
      (br_if 0 (local.get $x) (local.get $p))
      (drop)
      (f64.add (local.get $x) (f64.const 1)))
    (f64.mul (f64.const 3))
    (f64.add (f64.mul (local.get $t) (f64.const 0))))

  ;; The same for the i32 accumulator, read by a compare fused into a branch:
  ;; (p=1, x=2) -> 1 (2 < 7), (0, 2) -> 1 (6 < 7); with 5x = 10 read instead, 0.
  (func (export "iacc_join") (param $p i32) (param $x i32) (result i32)
    (local $t i32)
    (block (result i32)
      (local.set $t (i32.mul (local.get $x) (i32.const 5)))
      (br_if 0 (local.get $x) (local.get $p))
      (drop)
      (i32.mul (local.get $x) (i32.const 3)))
    (i32.lt_u (i32.const 7))
    (if (result i32) (then (i32.const 1)) (else (i32.const 0)))
    (i32.add (i32.mul (local.get $t) (i32.const 0))))
  ;; Again with x + 1, which the translator computes only at the block's end
  ;; (just before the label): (1, 2) -> 1 (2 < 7), (0, 2) -> 0 (10 < 7 is false).
  (func (export "iacc_join_end") (param $p i32) (param $x i32) (result i32)
    (local $t i32)
    (block (result i32)
      (local.set $t (i32.mul (local.get $x) (i32.const 5)))
      (br_if 0 (local.get $x) (local.get $p))
      (drop)
      (i32.add (local.get $x) (i32.const 8)))
    (i32.lt_u (i32.const 7))
    (if (result i32) (then (i32.const 1)) (else (i32.const 0)))
    (i32.add (i32.mul (local.get $t) (i32.const 0))))

  ;; Xors of rotations and shifts, adds of a shift and of products, which the
  ;; translator fuses (I32_XOR_ROTL, I32_XOR_SHR_U, I32_ADD_SHL, I32_MAD*), the
  ;; folded value as b and as a.
  (func (export "xor_shifts") (param $x i32) (param $y i32) (result i32)
    (i32.xor (i32.xor (i32.rotl (local.get $x) (i32.const 7)) (i32.rotl (local.get $x) (i32.const 13)))
             (i32.shr_u (local.get $x) (i32.const 3)))
    (i32.xor (i32.shr_u (local.get $y) (i32.const 10)) (local.get $x))
    (i32.add)
    (i32.add (local.get $y) (i32.shl (local.get $x) (i32.const 2)))
    (i32.add)
    (i32.add (local.get $y) (i32.mul (local.get $x) (i32.const 31)))
    (i32.add)
    (i32.add (i32.mul (local.get $x) (local.get $y)) (local.get $y))
    (i32.add))

  ;; f64 compares fused into branches, taken when true (br_if) and when false
  ;; (if), where a NaN makes !(a < b) differ from a >= b.
  (func (export "fcmp_branches") (param $a f64) (param $b f64) (result i32)
    (local $r i32)
    (if (f64.lt (local.get $a) (local.get $b)) (then (local.set $r (i32.or (local.get $r) (i32.const 1)))))
    (if (f64.ge (local.get $a) (local.get $b)) (then (local.set $r (i32.or (local.get $r) (i32.const 2)))))
    (if (f64.eq (local.get $a) (local.get $b)) (then (local.set $r (i32.or (local.get $r) (i32.const 4)))))
    (block
      (br_if 0 (f64.le (f64.add (local.get $a) (f64.const 0)) (local.get $b)))
      (local.set $r (i32.or (local.get $r) (i32.const 8))))
    (block
      (br_if 0 (f64.ne (local.get $a) (local.get $b)))
      (local.set $r (i32.or (local.get $r) (i32.const 16))))
    (local.get $r))

  ;; *p += x * y on f64, which the translator runs as one F64_ADD_TO_RA, then
  ;; *q = *p + 1 (a load folded into the add, stored elsewhere); returns *q.
  ;; An address out of bounds traps in the first, with nothing written.
  (func (export "f64_add_to") (param $p i32) (param $q i32) (param $x f64) (param $y f64) (result f64)
    (f64.store offset=8 (local.get $p)
      (f64.add (f64.mul (local.get $x) (local.get $y)) (f64.load offset=8 (local.get $p))))
    (f64.store (local.get $q) (f64.add (f64.const 1) (f64.load offset=8 (local.get $p))))
    (f64.load (local.get $q)))

  ;; Conditional branches folded into the load or addition computing their
  ;; operand (BR_IF_LD, BR_IFZ_LD8U, BR_IF_ADD_IMM...).  list_len follows
  ;; next pointers (*node) from $p; str_len counts bytes up to a zero;
  ;; countdown adds $n + ... + 1.
  (func (export "list_len") (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (br_if $done (i32.eqz (local.get $p)))
      (loop $next
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $next (local.tee $p (i32.load (local.get $p))))))
    (local.get $n))
  (func (export "str_len") (param $s i32) (result i32)
    (local $i i32)
    (block $end
      (loop $next
        (br_if $end (i32.eqz (i32.load8_u (local.get $s))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (func (export "countdown") (param $n i32) (result i32)
    (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum) (local.get $n)))
      (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1)))))
    (local.get $sum))
  ;; Each way of branching on a load or a sum, taken when true and when false;
  ;; bit k of the result says which of the tests held.
  (func (export "branch_folds") (param $p i32) (param $x i32) (result i32)
    (local $r i32)
    (if (i32.load (local.get $p)) (then (local.set $r (i32.or (local.get $r) (i32.const 1)))))
    (if (i32.load8_u (local.get $p)) (then (local.set $r (i32.or (local.get $r) (i32.const 2)))))
    (if (i32.eqz (i32.load8_u offset=1 (local.get $p))) (then (local.set $r (i32.or (local.get $r) (i32.const 4)))))
    (if (i32.eqz (i32.load offset=4 (local.get $p))) (then (local.set $r (i32.or (local.get $r) (i32.const 8)))))
    (if (i32.add (local.get $x) (i32.const -1)) (then (local.set $r (i32.or (local.get $r) (i32.const 16)))))
    (block
      (br_if 0 (i32.eqz (i32.add (local.get $x) (i32.const 1))))
      (local.set $r (i32.or (local.get $r) (i32.const 32))))
    (block
      (br_if 0 (i32.add (local.get $x) (i32.const 2)))
      (local.set $r (i32.or (local.get $r) (i32.const 64))))
    (block
      (br_if 0 (i32.load8_u offset=2 (local.get $p)))
      (local.set $r (i32.or (local.get $r) (i32.const 128))))
    (block
      (br_if 0 (i32.eqz (i32.load offset=4 (local.get $p))))
      (local.set $r (i32.or (local.get $r) (i32.const 256))))
    (local.get $r))

  ;; Bit fields, (x >> k) & m, of a local and of a product just computed
  ;; (I32_SHR_U_AND, I32_SHR_U_AND_R); a shift by 33 is one by 1.
  (func (export "bitfields") (param $x i32) (param $y i32) (result i32)
    (i32.xor
      (i32.xor (i32.and (i32.shr_u (local.get $x) (i32.const 5)) (i32.const 127))
               (i32.shl (i32.and (i32.shr_u (i32.mul (local.get $x) (local.get $y)) (i32.const 2)) (i32.const 15))
                        (i32.const 8)))
      (i32.shl (i32.and (i32.shr_u (local.get $y) (i32.const 33)) (i32.const -1)) (i32.const 1))))

  ;; (a + k) & m: of a deferred local + constant, that local the accumulator
  ;; or not (I32_ADD_AND_R, I32_ADD_AND), and of a sum just computed from
  ;; the accumulator or not.
  (func (export "add_ands") (param $x i32) (result i32)
    (local $y i32)
    (local.set $y (i32.mul (local.get $x) (local.get $x)))
    (i32.shl (i32.and (i32.add (local.get $y) (i32.const 3)) (i32.const 0xf0)) (i32.const 8))
    (i32.and (i32.add (local.get $x) (i32.const -58)) (i32.const 255))
    (i32.xor)
    (i32.and (i32.add (i32.mul (local.get $x) (i32.const 3)) (i32.const 5)) (i32.const 0xff00))
    (i32.xor)
    (i32.shl (i32.and (i32.add (i32.eqz (local.get $x)) (i32.const 7)) (i32.const 6)) (i32.const 24))
    (i32.xor))

  ;; A multiply-add whose product's b was the accumulator (I32_MUL_RB, then
  ;; I32_ADD: one I32_MAD): y + x * (y ^ x).
  (func (export "mad_rb") (param $x i32) (param $y i32) (result i32)
    (i32.add (local.get $y) (i32.mul (local.get $x) (i32.xor (local.get $y) (local.get $x)))))

  ;; *p += 3 on i32 (one I32_ADD_TO_IMM), at offset 4; returns the new value.
  ;; add_to_tee keeps the sum in a local as well (no fusion: $t is read).
  (func (export "add_to") (param $p i32) (result i32)
    (i32.store offset=4 (local.get $p) (i32.add (i32.load offset=4 (local.get $p)) (i32.const 3)))
    (i32.load offset=4 (local.get $p)))
  (func (export "add_to_tee") (param $p i32) (result i32)
    (local $t i32)
    (i32.store (local.get $p) (local.tee $t (i32.add (i32.load (local.get $p)) (i32.const -1))))
    (i32.add (local.get $t) (i32.load (local.get $p))))

  ;; The sum of $n > 0 u16 at $p: a loop whose header runs straight into
  ;; its first instruction, an i32.load16_u (LOOP_I32_LOAD16_U).
  (func (export "sum_u16") (param $p i32) (param $n i32) (result i32)
    (local $s i32)
    (loop $l
      (local.set $s (i32.add (i32.load16_u (local.get $p)) (local.get $s)))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br_if $l (local.tee $n (i32.add (local.get $n) (i32.const -1)))))
    (local.get $s))

  ;; Fibonacci by moving locals round a loop, a copy then a branch each
  ;; time (COPY_BR_IF; COPY_BR_IFZ for the if; COPY_BR for the br with a
  ;; value): F(n) for n > 0, plus 1000 if m != 0.
  (func (export "copy_branches") (param $n i32) (param $m i32) (result i32)
    (local $a i32) (local $b i32) (local $t i32)
    (local.set $b (i32.const 1))
    (loop $l
      (local.set $t (i32.add (local.get $a) (local.get $b)))
      (local.set $a (local.get $b))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (local.set $b (local.get $t))
      (br_if $l (local.get $n)))
    (local.set $t (local.get $m))
    (if (local.get $t) (then (local.set $a (i32.add (local.get $a) (i32.const 1000)))))
    (block $out (result i32) (br $out (local.get $a))))

  ;; A constant then a copy, one CONST_COPY, the copy reading what the
  ;; constant just wrote in the second pair: 900 + a.
  (func (export "const_copy") (param $a i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.const 4))
    (local.set $y (local.get $a))
    (local.set $a (i32.const 9))
    (local.set $x (local.get $a))
    (i32.add (i32.mul (local.get $x) (i32.const 100)) (local.get $y)))

  ;; Loads from a sum just computed, the i32.add folded into the load (see
  ;; fold_load_sum in compile.c): a + b (I32_LOAD8_U_IX), a + acc
  ;; (I32_LOAD16_U_IX_R), acc + k (I32_LOAD_K_R), a temporary + k (the ADDR
  ;; form), a + (b << 1) (I32_LOAD16_U_SHL), acc + (b << 2) (I32_LOAD_SHL_R).
  ;; test_load_sums checks each against C, with sums that wrap and addresses
  ;; at the end of memory.
  (func (export "ld_ix") (param $a i32) (param $b i32) (result i32)
    (i32.load8_u offset=1 (i32.add (local.get $a) (local.get $b))))
  (func (export "ld_ix_r") (param $a i32) (param $b i32) (result i32)
    (i32.load16_u offset=2 (i32.add (local.get $a) (i32.xor (local.get $b) (i32.const 16)))))
  (func (export "ld_k_r") (param $a i32) (param $b i32) (result i32)
    (i32.load (i32.add (i32.xor (local.get $a) (local.get $b)) (i32.const 12))))
  (func (export "ld_addr") (param $a i32) (param $b i32) (result i32)
    (i32.load8_u offset=4 (i32.add (select (local.get $a) (local.get $b) (local.get $a)) (i32.const 3))))
  (func (export "ld_shl") (param $a i32) (param $b i32) (result i32)
    (i32.load16_u (i32.add (local.get $a) (i32.shl (local.get $b) (i32.const 1)))))
  (func (export "ld_shl_r") (param $a i32) (param $b i32) (result i32)
    (i32.load offset=8 (i32.add (i32.mul (local.get $a) (i32.const 3)) (i32.shl (local.get $b) (i32.const 2)))))

  ;; Stores of a constant sum just computed, the i32.add folded into the
  ;; store: of a temporary (I32_STORE_ADD_IMM) and of the accumulator
  ;; (I32_STORE_ADD_IMM_R).  Each returns what the address then holds.
  (func (export "st_add") (param $p i32) (param $x i32) (result i32)
    (i32.store offset=4 (local.get $p) (i32.add (select (local.get $x) (local.get $p) (local.get $x)) (i32.const 7)))
    (i32.load offset=4 (local.get $p)))
  (func (export "st_add_r") (param $p i32) (param $x i32) (result i32)
    (i32.store offset=8 (local.get $p) (i32.add (i32.xor (local.get $x) (local.get $p)) (i32.const -5)))
    (i32.load offset=8 (local.get $p)))

  ;; Loop latches, i += k then a compare with a constant and br_if, that run
  ;; as one ADD_BR_* (see fold_add_branch in compile.c): for !=, <u and >s,
  ;; with i in a slot and i the accumulator (_R, after the body's i |= 0).
  ;; Returns the iteration counts, each in its own byte.
  (func (export "latches") (param $s i32) (result i32)
    (local $i i32) (local $c i32) (local $r i32) (local $one i32)
    (local.set $one (i32.const 1)) ;; c += one: not an add of a constant that the latch's would join
    (local.set $i (local.get $s))
    (loop $a
      (local.set $c (i32.add (local.get $c) (local.get $one)))
      (br_if $a (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 40))))
    (local.set $r (local.get $c))
    (local.set $i (local.get $s)) (local.set $c (i32.const 0))
    (loop $b
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (local.set $i (i32.or (local.get $i) (i32.const 0)))
      (br_if $b (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 3))) (i32.const 50))))
    (local.set $r (i32.or (local.get $r) (i32.shl (local.get $c) (i32.const 8))))
    (local.set $i (local.get $s)) (local.set $c (i32.const 0))
    (loop $d
      (local.set $c (i32.add (local.get $c) (local.get $one)))
      (br_if $d (i32.gt_s (local.tee $i (i32.add (local.get $i) (i32.const -7))) (i32.const -20))))
    (local.set $r (i32.or (local.get $r) (i32.shl (local.get $c) (i32.const 16))))
    (local.set $i (local.get $s)) (local.set $c (i32.const 0))
    (loop $e
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (local.set $i (i32.or (local.get $i) (i32.const 0)))
      (br_if $e (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 2))) (i32.const 40))))
    (i32.or (local.get $r) (i32.shl (local.get $c) (i32.const 24))))

  ;; Bit tests, (x & m) then a branch on it, each one BR_IF_AND_IMM or
  ;; BR_IFZ_AND_IMM: bit 0 of the result for x & 4 (br_if), bit 1 for
  ;; !(x & 0x30) (if), bit 2 for x & 0x80000000 (br_if on eqz).
  (func (export "bit_tests") (param $x i32) (result i32)
    (local $r i32) (local $y i32)
    (local.set $y (i32.mul (local.get $x) (i32.const 1)))
    (block $a
      (br_if $a (i32.and (local.get $x) (i32.const 4)))
      (local.set $r (i32.const 1)))
    (if (i32.and (local.get $x) (i32.const 0x30))
      (then (nop))
      (else (local.set $r (i32.or (local.get $r) (i32.const 2)))))
    (block $b
      (br_if $b (i32.eqz (i32.and (local.get $y) (i32.const 0x80000000))))
      (local.set $r (i32.or (local.get $r) (i32.const 4))))
    (local.get $r))

  ;; a * 12 + (b << 2) then + 1 (a product, then a shift folded into the add).
  (func (export "index2d") (param $a i32) (param $b i32) (result i32)
    (i32.add (i32.add (i32.mul (local.get $a) (i32.const 12)) (i32.shl (local.get $b) (i32.const 2)))
             (i32.const 1)))

  ;; A switch on a byte just loaded from memory at p: BR_TABLE_R, the index
  ;; read from the accumulator.  Cases 0..3 give 10..13, others 99.
  (func (export "switch_byte") (param $p i32) (result i32)
    (block $d (block $c3 (block $c2 (block $c1 (block $c0
      (br_table $c0 $c1 $c2 $c3 $d (i32.load8_u (local.get $p))))
      (return (i32.const 10)))
      (return (i32.const 11)))
      (return (i32.const 12)))
      (return (i32.const 13)))
    (i32.const 99))

  ;; Latches comparing with a slot, not a constant (ADD_BR_NE_S, ADD_BR_LT_U_S),
  ;; and loops whose first instruction is a subtraction or a byte load from a
  ;; sum (LOOP_I32_SUB, LOOP_I32_LOAD8_U_IX): returns the two iteration
  ;; counts, then the sum of the bytes at p .. p + n - 1 and n - 3k.
  (func (export "slot_latches") (param $n i32) (param $p i32) (result i32)
    (local $i i32) (local $c i32) (local $one i32) (local $s i32) (local $d i32) (local $three i32)
    (local.set $one (i32.const 1))
    (local.set $three (i32.const 3))
    (loop $a
      (local.set $c (i32.add (local.get $c) (local.get $one)))
      (br_if $a (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.set $s (local.get $c))
    (local.set $i (i32.const 0)) (local.set $c (i32.const 0))
    (loop $b
      (local.set $c (i32.add (local.get $c) (local.get $one)))
      (br_if $b (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $n))))
    (local.set $s (i32.add (local.get $s) (i32.mul (local.get $c) (i32.const 1000))))
    (local.set $i (i32.const 0)) (local.set $c (i32.const 0))
    (loop $e
      (local.set $c (i32.add (local.get $c) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (local.get $one)))
      (br_if $e (i32.lt_u (local.get $i) (local.get $n))))
    (local.set $s (i32.add (local.get $s) (i32.mul (local.get $c) (i32.const 1000000))))
    (local.set $d (local.get $n))
    (loop $f
      (local.set $d (i32.sub (local.get $d) (local.get $three)))
      (br_if $f (i32.gt_s (local.get $d) (i32.const 0))))
    (i32.add (local.get $s) (i32.mul (local.get $d) (i32.const 100000000))))
)
