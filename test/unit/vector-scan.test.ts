import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { dotProduct, vectorScan, type VectorScan } from '../../coaching/vector-scan.js';
import { assembledKernel, kernelModule, VECTOR_SCAN_MODULE } from '../../scripts/vector-scan-wasm.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** A scan of `rows` random vectors, some with huge, tiny or zero entries. */
function filled(scan: VectorScan, next: () => number): VectorScan {
  for (let i = 0; i < scan.vectors.length; i++) {
    const u = next();
    scan.vectors[i] =
      u < 0.05 ? 0 : u < 0.08 ? (next() - 0.5) * 1e30 : u < 0.11 ? (next() - 0.5) * 1e-30 : next() * 2 - 1;
  }
  return scan;
}

const query = (next: () => number, d: number) => Float32Array.from({ length: d }, () => next() * 2 - 1);

describe('vector scan: the recall kernel', () => {
  it('is the module the .wat assembles to (npm run wasm:build regenerates it)', async () => {
    assert.equal(readFileSync(VECTOR_SCAN_MODULE, 'utf8'), await kernelModule(await assembledKernel()));
  });

  it('runs the WebAssembly SIMD kernel on this runtime for dimensions that are multiples of 4', () => {
    assert.equal(vectorScan(3, 256).kernel, 'wasm-simd');
    assert.equal(vectorScan(3, 4).kernel, 'wasm-simd');
    // The kernel takes four dimensions a step; other counts use the JavaScript loop.
    assert.equal(vectorScan(3, 30).kernel, 'js');
    assert.equal(vectorScan(3, 256, { kernel: 'js' }).kernel, 'js');
  });

  it('gives exactly the similarities dotProduct gives, in both kernels, for any rows asked', () => {
    const next = seededRandom(11);
    for (const [rows, d] of [
      [1, 4],
      [2, 8],
      [5, 12],
      [64, 256],
      [33, 384],
      [9, 1536],
    ] as const) {
      const wasm = filled(vectorScan(rows, d), next);
      assert.equal(wasm.kernel, 'wasm-simd');
      const js = vectorScan(rows, d, { kernel: 'js' });
      js.vectors.set(wasm.vectors);
      for (let trial = 0; trial < 5; trial++) {
        const q = query(next, d);
        const asked = [
          undefined,
          [],
          [rows - 1],
          Int32Array.from({ length: Math.min(rows, 7) }, () => Math.floor(next() * rows)),
          Array.from({ length: rows }, (_, r) => rows - 1 - r),
        ];
        for (const chosen of asked) {
          const order = chosen ? Array.from(chosen) : Array.from({ length: rows }, (_, r) => r);
          const expected = order.map((row) => dotProduct(wasm.vectors, row * d, q, d));
          const fromWasm = Array.from(wasm.dots(q, chosen));
          const fromJs = Array.from(js.dots(q, chosen));
          // Object.is tells -0 from 0 and compares every bit that matters to a threshold.
          assert.equal(fromWasm.length, order.length);
          fromWasm.forEach((x, r) =>
            assert.ok(Object.is(x, expected[r]), `wasm ${rows}×${d} row ${order[r]}: ${x} ≠ ${expected[r]}`),
          );
          fromJs.forEach((x, r) =>
            assert.ok(Object.is(x, expected[r]), `js ${rows}×${d} row ${order[r]}: ${x} ≠ ${expected[r]}`),
          );
        }
      }
    }
  });

  it('gives dotProduct’s numbers in the JavaScript loop for dimensions the kernel cannot take', () => {
    const next = seededRandom(5);
    for (const [rows, d] of [
      [3, 1],
      [4, 5],
      [7, 31],
    ] as const) {
      const scan = filled(vectorScan(rows, d), next);
      const q = query(next, d);
      const got = Array.from(scan.dots(q));
      got.forEach((x, row) => assert.ok(Object.is(x, dotProduct(scan.vectors, row * d, q, d))));
    }
  });

  it('refuses a query of another dimension, more rows than it holds, and a row it does not hold', () => {
    for (const kernel of ['wasm-simd', 'js'] as const) {
      const scan = vectorScan(2, 8, { kernel });
      assert.throws(() => scan.dots(new Float32Array(4)), /query of 4 dimensions, the scan's 8/);
      assert.throws(() => scan.dots(new Float32Array(8), [0, 1, 0]), /3 rows asked of a scan of 2/);
      for (const bad of [2, -1, 0.5, 1e6])
        assert.throws(
          () => scan.dots(new Float32Array(8), [0, bad]),
          /row .* asked of a scan of rows 0-1/,
          `${kernel} ${bad}`,
        );
    }
  });
});
