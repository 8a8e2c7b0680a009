;; The recall scan's kernel: the dot products of one query with chosen rows of a matrix of
;; float32 vectors, four dimensions per step with WebAssembly SIMD.
;;
;; It computes exactly what `dotProduct` in vector-scan.ts computes, to the last bit:
;; each float32 is widened to float64 (exact), each product is taken in float64 (exact: two
;; 24-bit mantissas fit in 53), and dimension i is added to accumulator i mod 4 in the same
;; order, then ((s0 + s1) + s2) + s3. Lanes [s0 s1] live in $a and [s2 s3] in $b. So the
;; kernel changes how fast recall is, never what it recalls.
;;
;; Build: `npm run wasm:build` (wabt) writes coaching/vector-scan-wasm.ts from this file;
;; test/unit/vector-scan.test.ts fails when the two differ.
(module
  (import "env" "memory" (memory 1))
  ;; out[r] = Σ vec[rows[r]][i] · q[i], r < n. q: d float64 at $q; rows: n int32 at $rows;
  ;; vec: row-major float32 rows of d at $vec; out: n float64 at $out. d is a multiple of 4.
  (func (export "dots")
    (param $q i32) (param $rows i32) (param $n i32) (param $vec i32) (param $d i32) (param $out i32)
    (local $r i32) (local $p i32) (local $end i32) (local $qi i32) (local $rowBytes i32)
    (local $v v128) (local $a v128) (local $b v128)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (block $done
      (loop $eachRow
        (br_if $done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $p
          (i32.add (local.get $vec)
            (i32.mul
              (i32.load (i32.add (local.get $rows) (i32.shl (local.get $r) (i32.const 2))))
              (local.get $rowBytes))))
        (local.set $end (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $qi (local.get $q))
        (local.set $a (f64x2.splat (f64.const 0)))
        (local.set $b (f64x2.splat (f64.const 0)))
        (block $rowDone
          (loop $eachQuad
            (br_if $rowDone (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $v (v128.load (local.get $p)))
            ;; dimensions i, i+1
            (local.set $a
              (f64x2.add (local.get $a)
                (f64x2.mul (f64x2.promote_low_f32x4 (local.get $v)) (v128.load (local.get $qi)))))
            ;; dimensions i+2, i+3: the high half moved low, then widened
            (local.set $b
              (f64x2.add (local.get $b)
                (f64x2.mul
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                  (v128.load offset=16 (local.get $qi)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $qi (i32.add (local.get $qi) (i32.const 32)))
            (br $eachQuad)))
        (f64.store
          (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3)))
          (f64.add
            (f64.add
              (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a)))
              (f64x2.extract_lane 0 (local.get $b)))
            (f64x2.extract_lane 1 (local.get $b))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $eachRow))))
)
