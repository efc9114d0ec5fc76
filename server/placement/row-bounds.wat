;; The placement scan's first half, four RTTs per instruction (WebAssembly SIMD).
;; Source of row-bounds-wasm.ts (npm run build:wasm); row-bounds.ts explains the use.
;;
;; rowBounds(m, n, cap, out, flags, counts): for each of the m rows of n float32 RTTs at
;; byte 0 of the memory (row-major), writes one float32 at out + 4·s:
;;   NaN        a value is NaN or negative (bad input: the caller finds and names it),
;;              or is a negative zero (read as negative here; the caller sorts it out);
;;   +Infinity  a value is above cap (the server is dropped);
;;   otherwise  a lower bound on the row's C_s, the deviation bound Σ|x − μ| / (n − 1)
;;              (bounds.ts), lowered by n · 10⁻⁶ · max so float32 rounding never lifts
;;              it above the true bound (worst case of the sums' rounding: about
;;              2n · 2⁻²⁴ · max);
;; and one byte at flags + s, 1 for +Infinity, else 0. At counts: two i32, the rows with
;; a bound and the rows over the cap. n ≥ 2.
;;
;; rowsAtMost(out, from, to, bar, found) → k: the indices s in [from, to) whose bound is
;; at most bar and finite, in order, as k i32 at found.
(module
  (import "env" "memory" (memory 1))
  ;; Rows [from, m), one at a time (any n); adds to the two counts.
  (func $oneByOne (param $from i32) (param $m i32) (param $n i32) (param $cap f32) (param $out i32) (param $flags i32) (param $counts i32)
    (local $within i32) (local $over i32) (local $isOver i32) (local $isBad i32)
    (local $s i32) (local $row i32) (local $end i32) (local $end4 i32) (local $p i32)
    (local $v v128) (local $v2 v128) (local $vsum2 v128) (local $vbits v128) (local $vsum v128) (local $vmean v128)
    (local $bits i32) (local $x i32) (local $capBits i32) (local $sum f32) (local $mean f32) (local $dev f32)
    (local $perValue f32) (local $perPair f32) (local $slack f32)
    (local.set $s (local.get $from))
    (local.set $row (i32.mul (local.get $from) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $capBits (i32.reinterpret_f32 (local.get $cap)))
    (local.set $perValue (f32.div (f32.const 1) (f32.convert_i32_u (local.get $n))))
    (local.set $perPair (f32.div (f32.const 1) (f32.convert_i32_u (i32.sub (local.get $n) (i32.const 1)))))
    (local.set $slack (f32.mul (f32.convert_i32_u (local.get $n)) (f32.const 1e-6)))
    ;; No branch depends on the values: every row takes both passes and the outcome is
    ;; selected at the end, so rows overlap in the pipeline (a mispredicted branch per
    ;; row cost more than the second pass).
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $s) (local.get $m)))
        (local.set $end (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $end4 (i32.add (local.get $row) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
        ;; Pass 1: the largest value's bits and the sum. A float32 ≥ 0 orders like its bits
        ;; read as an unsigned integer, and a negative one or a NaN reads above +Infinity,
        ;; so one unsigned max per four values checks validity and the cap at once.
        (local.set $vbits (v128.const i32x4 0 0 0 0))
        (local.set $vsum (v128.const f32x4 0 0 0 0))
        (local.set $vsum2 (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $row))
        ;; Two quads per step, two sums: half the loop overhead and a shorter add chain.
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end4)))
            (local.set $v (v128.load (local.get $p)))
            (local.set $v2 (v128.load offset=16 (local.get $p)))
            (local.set $vbits (i32x4.max_u (local.get $vbits) (i32x4.max_u (local.get $v) (local.get $v2))))
            (local.set $vsum (f32x4.add (local.get $vsum) (local.get $v)))
            (local.set $vsum2 (f32x4.add (local.get $vsum2) (local.get $v2)))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $pairs)))
        (if (i32.lt_u (local.get $p) (local.get $end4))
          (then
            (local.set $v (v128.load (local.get $p)))
            (local.set $vbits (i32x4.max_u (local.get $vbits) (local.get $v)))
            (local.set $vsum (f32x4.add (local.get $vsum) (local.get $v)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $vsum2)))
        ;; Across the lanes: swap halves, then neighbours; every lane ends with the total.
        (local.set $vbits (i32x4.max_u (local.get $vbits)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vbits) (local.get $vbits))))
        (local.set $vbits (i32x4.max_u (local.get $vbits)
          (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vbits) (local.get $vbits))))
        (local.set $vsum (f32x4.add (local.get $vsum)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vsum) (local.get $vsum))))
        (local.set $vsum (f32x4.add (local.get $vsum)
          (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vsum) (local.get $vsum))))
        (local.set $bits (i32x4.extract_lane 0 (local.get $vbits)))
        (local.set $sum (f32x4.extract_lane 0 (local.get $vsum)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (i32.load (local.get $p)))
            (local.set $bits (select (local.get $x) (local.get $bits) (i32.gt_u (local.get $x) (local.get $bits))))
            (local.set $sum (f32.add (local.get $sum) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $tail)))
        ;; Pass 2, over the row still in cache: Σ |x − μ|.
        (local.set $mean (f32.mul (local.get $sum) (local.get $perValue)))
        (local.set $vmean (f32x4.splat (local.get $mean)))
        (local.set $vsum (v128.const f32x4 0 0 0 0))
        (local.set $vsum2 (v128.const f32x4 0 0 0 0))
        (local.set $p (local.get $row))
        (block $devPairsDone
          (loop $devPairs
            (br_if $devPairsDone (i32.gt_u (i32.add (local.get $p) (i32.const 32)) (local.get $end4)))
            (local.set $vsum (f32x4.add (local.get $vsum)
              (f32x4.abs (f32x4.sub (v128.load (local.get $p)) (local.get $vmean)))))
            (local.set $vsum2 (f32x4.add (local.get $vsum2)
              (f32x4.abs (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $vmean)))))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $devPairs)))
        (if (i32.lt_u (local.get $p) (local.get $end4))
          (then
            (local.set $vsum (f32x4.add (local.get $vsum)
              (f32x4.abs (f32x4.sub (v128.load (local.get $p)) (local.get $vmean)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $vsum2)))
        (local.set $vsum (f32x4.add (local.get $vsum)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vsum) (local.get $vsum))))
        (local.set $vsum (f32x4.add (local.get $vsum)
          (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vsum) (local.get $vsum))))
        (local.set $dev (f32x4.extract_lane 0 (local.get $vsum)))
        (block $devTailDone
          (loop $devTail
            (br_if $devTailDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $dev (f32.add (local.get $dev)
              (f32.abs (f32.sub (f32.load (local.get $p)) (local.get $mean)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $devTail)))
        ;; Above +Infinity's bits: a negative value or a NaN. Above the cap's: over the cap.
        ;; Selected as integers: a float select compiles to a branch, mispredicted on
        ;; every other far server.
        (local.set $isBad (i32.gt_u (local.get $bits) (i32.const 0x7f800000)))
        (local.set $isOver (i32.and (i32.gt_u (local.get $bits) (local.get $capBits)) (i32.eqz (local.get $isBad))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $s) (i32.const 2)))
          (select
            (i32.const 0x7fc00000) ;; NaN
            (select
              (i32.const 0x7f800000) ;; +Infinity
              (i32.reinterpret_f32 (f32.sub
                (f32.mul (local.get $dev) (local.get $perPair))
                (f32.mul (local.get $slack) (f32.reinterpret_i32 (local.get $bits)))))
              (local.get $isOver))
            (local.get $isBad)))
        (i32.store8 (i32.add (local.get $flags) (local.get $s)) (local.get $isOver))
        (local.set $over (i32.add (local.get $over) (local.get $isOver)))
        (local.set $within (i32.add (local.get $within) (i32.eqz (i32.or (local.get $isOver) (local.get $isBad)))))
        (local.set $row (local.get $end))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $rows)))
    (i32.store (local.get $counts) (i32.add (i32.load (local.get $counts)) (local.get $within)))
    (i32.store offset=4 (local.get $counts) (i32.add (i32.load offset=4 (local.get $counts)) (local.get $over))))

  ;; Rows [0, m4) four at a time, for n a multiple of 4 and m4 a multiple of 4: the same
  ;; results as $oneByOne. The four rows are a quarter of the matrix apart (s, s + q,
  ;; s + 2q, s + 3q): four read streams keep the memory busier than one (measured: 10 →
  ;; 6 ms at a million rows when the caches are cold), and the sums across lanes are done
  ;; for the four rows at once (a 4 × 4 transpose: 9 instructions instead of 4 per row).
  (func $fourByFour (param $m4 i32) (param $n i32) (param $cap f32) (param $out i32) (param $flags i32) (param $counts i32)
    (local $s i32) (local $p i32) (local $rowEnd i32) (local $rowBytes i32) (local $quarter i32) (local $quarterBytes i32)
    (local $sum0 v128) (local $bits0 v128) (local $dev0 v128) (local $mean0 v128) (local $v0 v128) (local $sum1 v128) (local $bits1 v128) (local $dev1 v128) (local $mean1 v128) (local $v1 v128) (local $sum2 v128) (local $bits2 v128) (local $dev2 v128) (local $mean2 v128) (local $v2 v128) (local $sum3 v128) (local $bits3 v128) (local $dev3 v128) (local $mean3 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $sums v128) (local $bits v128) (local $means v128) (local $devs v128)
    (local $bad v128) (local $isOver v128) (local $bound v128) (local $vwithin v128) (local $vover v128)
    (local $perValue v128) (local $perPair v128) (local $slack v128) (local $capBits v128)
    (local.set $rowBytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $quarter (i32.shr_u (local.get $m4) (i32.const 2)))
    (local.set $quarterBytes (i32.mul (local.get $quarter) (local.get $rowBytes)))
    (local.set $capBits (i32x4.splat (i32.reinterpret_f32 (local.get $cap))))
    (local.set $perValue (f32x4.splat (f32.div (f32.const 1) (f32.convert_i32_u (local.get $n)))))
    (local.set $perPair (f32x4.splat (f32.div (f32.const 1) (f32.convert_i32_u (i32.sub (local.get $n) (i32.const 1))))))
    (local.set $slack (f32x4.splat (f32.mul (f32.convert_i32_u (local.get $n)) (f32.const 1e-6))))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $s) (local.get $quarter)))
        (local.set $p (i32.mul (local.get $s) (local.get $rowBytes)))
        (local.set $rowEnd (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $sum0 (v128.const i32x4 0 0 0 0))
        (local.set $bits0 (v128.const i32x4 0 0 0 0))
        (local.set $dev0 (v128.const i32x4 0 0 0 0))
        (local.set $sum1 (v128.const i32x4 0 0 0 0))
        (local.set $bits1 (v128.const i32x4 0 0 0 0))
        (local.set $dev1 (v128.const i32x4 0 0 0 0))
        (local.set $sum2 (v128.const i32x4 0 0 0 0))
        (local.set $bits2 (v128.const i32x4 0 0 0 0))
        (local.set $dev2 (v128.const i32x4 0 0 0 0))
        (local.set $sum3 (v128.const i32x4 0 0 0 0))
        (local.set $bits3 (v128.const i32x4 0 0 0 0))
        (local.set $dev3 (v128.const i32x4 0 0 0 0))
        ;; Pass 1 (see $oneByOne): the largest value's bits and the sum, per row.
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $v0 (v128.load offset=0 (i32.add (local.get $p) (i32.const 0))))
            (local.set $bits0 (i32x4.max_u (local.get $bits0) (local.get $v0)))
            (local.set $sum0 (f32x4.add (local.get $sum0) (local.get $v0)))
            (local.set $v1 (v128.load offset=0 (i32.add (local.get $p) (local.get $quarterBytes))))
            (local.set $bits1 (i32x4.max_u (local.get $bits1) (local.get $v1)))
            (local.set $sum1 (f32x4.add (local.get $sum1) (local.get $v1)))
            (local.set $v2 (v128.load offset=0 (i32.add (local.get $p) (i32.mul (i32.const 2) (local.get $quarterBytes)))))
            (local.set $bits2 (i32x4.max_u (local.get $bits2) (local.get $v2)))
            (local.set $sum2 (f32x4.add (local.get $sum2) (local.get $v2)))
            (local.set $v3 (v128.load offset=0 (i32.add (local.get $p) (i32.mul (i32.const 3) (local.get $quarterBytes)))))
            (local.set $bits3 (i32x4.max_u (local.get $bits3) (local.get $v3)))
            (local.set $sum3 (f32x4.add (local.get $sum3) (local.get $v3)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $quads)))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $sum0) (local.get $sum1))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $sum0) (local.get $sum1))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $sum2) (local.get $sum3))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $sum2) (local.get $sum3))))
        (local.set $sums (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))
        (local.set $t0 (i32x4.max_u (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $bits0) (local.get $bits1))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $bits0) (local.get $bits1))))
        (local.set $t1 (i32x4.max_u (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $bits2) (local.get $bits3))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $bits2) (local.get $bits3))))
        (local.set $bits (i32x4.max_u (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))

        ;; Pass 2: Σ |x − μ| per row, around each row's mean.
        (local.set $means (f32x4.mul (local.get $sums) (local.get $perValue)))
        (local.set $mean0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $means) (local.get $means)))
        (local.set $mean1 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $means) (local.get $means)))
        (local.set $mean2 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $means) (local.get $means)))
        (local.set $mean3 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $means) (local.get $means)))
        (local.set $p (i32.sub (local.get $p) (local.get $rowBytes)))
        (block $devsDone
          (loop $devs
            (br_if $devsDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $dev0 (f32x4.add (local.get $dev0) (f32x4.abs (f32x4.sub
              (v128.load (i32.add (local.get $p) (i32.const 0))) (local.get $mean0)))))
            (local.set $dev1 (f32x4.add (local.get $dev1) (f32x4.abs (f32x4.sub
              (v128.load (i32.add (local.get $p) (local.get $quarterBytes))) (local.get $mean1)))))
            (local.set $dev2 (f32x4.add (local.get $dev2) (f32x4.abs (f32x4.sub
              (v128.load (i32.add (local.get $p) (i32.mul (i32.const 2) (local.get $quarterBytes)))) (local.get $mean2)))))
            (local.set $dev3 (f32x4.add (local.get $dev3) (f32x4.abs (f32x4.sub
              (v128.load (i32.add (local.get $p) (i32.mul (i32.const 3) (local.get $quarterBytes)))) (local.get $mean3)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $devs)))
        (local.set $t0 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $dev0) (local.get $dev1))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $dev0) (local.get $dev1))))
        (local.set $t1 (f32x4.add (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $dev2) (local.get $dev3))
                             (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $dev2) (local.get $dev3))))
        (local.set $devs (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
                               (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))))

        ;; Verdicts, as in $oneByOne, four at a time (masks instead of selects).
        (local.set $bad (i32x4.gt_u (local.get $bits) (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000)))
        (local.set $isOver (v128.andnot (i32x4.gt_u (local.get $bits) (local.get $capBits)) (local.get $bad)))
        (local.set $bound (f32x4.sub (f32x4.mul (local.get $devs) (local.get $perPair)) (f32x4.mul (local.get $slack) (local.get $bits))))
        (local.set $bound (v128.bitselect
            (v128.const i32x4 0x7fc00000 0x7fc00000 0x7fc00000 0x7fc00000)
            (v128.bitselect (v128.const f32x4 inf inf inf inf) (local.get $bound) (local.get $isOver))
            (local.get $bad)))
        (v128.store32_lane 0 (i32.add (local.get $out) (i32.shl (local.get $s) (i32.const 2))) (local.get $bound))
        (i32.store8 (i32.add (local.get $flags) (local.get $s)) (i32x4.extract_lane 0 (i32x4.neg (local.get $isOver))))
        (v128.store32_lane 1 (i32.add (local.get $out) (i32.shl (i32.add (local.get $s) (local.get $quarter)) (i32.const 2))) (local.get $bound))
        (i32.store8 (i32.add (local.get $flags) (i32.add (local.get $s) (local.get $quarter))) (i32x4.extract_lane 1 (i32x4.neg (local.get $isOver))))
        (v128.store32_lane 2 (i32.add (local.get $out) (i32.shl (i32.add (local.get $s) (i32.mul (i32.const 2) (local.get $quarter))) (i32.const 2))) (local.get $bound))
        (i32.store8 (i32.add (local.get $flags) (i32.add (local.get $s) (i32.mul (i32.const 2) (local.get $quarter)))) (i32x4.extract_lane 2 (i32x4.neg (local.get $isOver))))
        (v128.store32_lane 3 (i32.add (local.get $out) (i32.shl (i32.add (local.get $s) (i32.mul (i32.const 3) (local.get $quarter))) (i32.const 2))) (local.get $bound))
        (i32.store8 (i32.add (local.get $flags) (i32.add (local.get $s) (i32.mul (i32.const 3) (local.get $quarter)))) (i32x4.extract_lane 3 (i32x4.neg (local.get $isOver))))
        (local.set $vover (i32x4.sub (local.get $vover) (local.get $isOver)))
        (local.set $vwithin (i32x4.sub (local.get $vwithin) (v128.not (v128.or (local.get $isOver) (local.get $bad)))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $blocks)))
    (i32.store (local.get $counts) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $vwithin)) (i32x4.extract_lane 1 (local.get $vwithin)))
                                            (i32.add (i32x4.extract_lane 2 (local.get $vwithin)) (i32x4.extract_lane 3 (local.get $vwithin)))))
    (i32.store offset=4 (local.get $counts) (i32.add (i32.add (i32x4.extract_lane 0 (local.get $vover)) (i32x4.extract_lane 1 (local.get $vover)))
                                                     (i32.add (i32x4.extract_lane 2 (local.get $vover)) (i32x4.extract_lane 3 (local.get $vover))))))

  (func (export "rowBounds") (param $m i32) (param $n i32) (param $cap f32) (param $out i32) (param $flags i32) (param $counts i32)
    (local $m4 i32)
    (i64.store (local.get $counts) (i64.const 0))
    (if (i32.eqz (i32.and (local.get $n) (i32.const 3)))
      (then
        (local.set $m4 (i32.and (local.get $m) (i32.const -4)))
        (call $fourByFour (local.get $m4) (local.get $n) (local.get $cap) (local.get $out) (local.get $flags) (local.get $counts))))
    (call $oneByOne (local.get $m4) (local.get $m) (local.get $n) (local.get $cap) (local.get $out) (local.get $flags) (local.get $counts)))

  (func (export "rowsAtMost") (param $out i32) (param $from i32) (param $to i32) (param $bar f32) (param $found i32) (result i32)
    (local $s i32) (local $to4 i32) (local $k i32) (local $vbar v128) (local $v v128)
    (local.set $vbar (f32x4.splat (local.get $bar)))
    (local.set $s (local.get $from))
    (local.set $to4 (i32.sub (local.get $to) (i32.and (i32.sub (local.get $to) (local.get $from)) (i32.const 3))))
    ;; Four bounds per test; the rare group with a hit is looked at one by one below.
    (block $groupsDone
      (loop $groups
        (br_if $groupsDone (i32.ge_u (local.get $s) (local.get $to4)))
        (local.set $v (v128.load (i32.add (local.get $out) (i32.shl (local.get $s) (i32.const 2)))))
        (if (v128.any_true (v128.and
              (f32x4.le (local.get $v) (local.get $vbar))
              (f32x4.lt (local.get $v) (v128.const f32x4 inf inf inf inf))))
          (then (local.set $k (call $hits (local.get $out) (local.get $s) (i32.add (local.get $s) (i32.const 4)) (local.get $bar) (local.get $found) (local.get $k)))))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (br $groups)))
    (call $hits (local.get $out) (local.get $s) (local.get $to) (local.get $bar) (local.get $found) (local.get $k)))

  ;; Appends the s in [from, to) with a finite bound ≤ bar at found[k…]; returns the new k.
  (func $hits (param $out i32) (param $from i32) (param $to i32) (param $bar f32) (param $found i32) (param $k i32) (result i32)
    (local $s i32) (local $b f32)
    (local.set $s (local.get $from))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $s) (local.get $to)))
        (local.set $b (f32.load (i32.add (local.get $out) (i32.shl (local.get $s) (i32.const 2)))))
        (if (i32.and (f32.le (local.get $b) (local.get $bar)) (f32.lt (local.get $b) (f32.const inf)))
          (then
            (i32.store (i32.add (local.get $found) (i32.shl (local.get $k) (i32.const 2))) (local.get $s))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))))
        (local.set $s (i32.add (local.get $s) (i32.const 1)))
        (br $each)))
    (local.get $k)))
