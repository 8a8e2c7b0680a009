import { VECTOR_SCAN_WASM_BASE64 } from './vector-scan-wasm.js';

/**
 * The dot products of one query with many rows of a fixed matrix: the work of a recall (and of
 * the IVF index's k-means). It is most of a recall's CPU, so the rows live in the memory of a
 * small WebAssembly SIMD kernel (coaching/vector-scan.wat) that takes four dimensions a step.
 * The kernel computes exactly the numbers `dotProduct` computes, to the last bit (see the
 * .wat), so which of the two runs never changes what is recalled; the JavaScript loop below
 * runs where the kernel cannot (a dimension count not a multiple of 4, a runtime without
 * WebAssembly SIMD, a matrix too large for one WebAssembly memory).
 */
export interface VectorScan {
  readonly rows: number;
  readonly dimensions: number;
  /** rows × dimensions, row-major: write the matrix here (a view of the kernel's memory when it runs). */
  readonly vectors: Float32Array;
  readonly kernel: VectorScanKernel;
  /**
   * out[r] = vectors[rows[r]] · q, for the given rows in their order (every row when omitted).
   * The returned array is overwritten by the next call on this scan: read it first.
   */
  dots(q: Float32Array, rows?: ArrayLike<number>): Float64Array;
}

export type VectorScanKernel = 'wasm-simd' | 'js';

/** Σ a[base+i]·b[i] over d, four at a time (V8 keeps the four sums in registers). */
export function dotProduct(a: Float32Array, base: number, b: Float32Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[base + i]! * b[i]!;
    s1 += a[base + i + 1]! * b[i + 1]!;
    s2 += a[base + i + 2]! * b[i + 2]!;
    s3 += a[base + i + 3]! * b[i + 3]!;
  }
  for (; i < d; i++) s0 += a[base + i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

type DotsExport = (q: number, rows: number, n: number, vec: number, d: number, out: number) => void;

/**
 * The part of the WebAssembly API used here. TypeScript declares the global only in its DOM
 * libraries, which the project does not load (Node has it all the same).
 */
interface WasmModule {
  readonly kind?: 'module';
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: { env: { memory: WasmMemory } },
  ) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
}
// Through unknown: where the DOM library is loaded (the console's typecheck) its own declaration differs.
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Kernel {
  api: WasmApi;
  module: WasmModule;
}

/** Compiled once per process; null where the runtime cannot run it (no SIMD). */
let compiled: Kernel | null | undefined;

function compiledKernel(): Kernel | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(VECTOR_SCAN_WASM_BASE64, 'base64');
    compiled = wasm?.validate(bytes) ? { api: wasm, module: new wasm.Module(bytes) } : null;
  }
  return compiled;
}

/** A row number the scan holds, else an error that says which. */
function rowIndex(row: number, rows: number): number {
  if (!Number.isInteger(row) || row < 0 || row >= rows)
    throw new Error(`row ${row} asked of a scan of rows 0-${rows - 1}`);
  return row;
}

const PAGE = 65_536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB); keep well inside it. */
const MAX_PAGES = 32_768;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * A scan of `rows` vectors of `dimensions`. `kernel: 'js'` forces the JavaScript loop (tests
 * compare the two); by default the WebAssembly kernel runs wherever it can.
 */
export function vectorScan(
  rows: number,
  dimensions: number,
  options: { kernel?: VectorScanKernel } = {},
): VectorScan {
  const kernel = options.kernel === 'js' ? null : compiledKernel();
  if (kernel && dimensions > 0 && dimensions % 4 === 0) {
    const scan = wasmScan(kernel, rows, dimensions);
    if (scan) return scan;
  }
  return jsScan(rows, dimensions);
}

/**
 * The kernel's memory, one per matrix: the query (as float64), the identity row list (every
 * row, for a full scan), a scratch row list, the output, then the matrix. Its size is fixed
 * when built, so the views stay valid (a memory that grew would detach them).
 */
function wasmScan({ api, module }: Kernel, rows: number, d: number): VectorScan | null {
  const qAt = 0;
  const allAt = align16(qAt + d * 8);
  const someAt = align16(allAt + rows * 4);
  const outAt = align16(someAt + rows * 4);
  const vectorsAt = align16(outAt + rows * 8);
  const pages = Math.max(1, Math.ceil((vectorsAt + rows * d * 4) / PAGE));
  if (pages > MAX_PAGES) return null;
  let memory: WasmMemory;
  try {
    memory = new api.Memory({ initial: pages, maximum: pages });
  } catch {
    return null; // the runtime refused that much memory: the JavaScript loop still works
  }
  const instance = new api.Instance(module, { env: { memory } });
  const dots = instance.exports.dots as DotsExport;
  const buffer = memory.buffer;
  const query = new Float64Array(buffer, qAt, d);
  const all = new Int32Array(buffer, allAt, rows);
  for (let r = 0; r < rows; r++) all[r] = r;
  const some = new Int32Array(buffer, someAt, rows);
  return {
    rows,
    dimensions: d,
    vectors: new Float32Array(buffer, vectorsAt, rows * d),
    kernel: 'wasm-simd',
    dots(q, chosen) {
      const n = chosen ? chosen.length : rows;
      if (q.length !== d) throw new Error(`query of ${q.length} dimensions, the scan's ${d}`);
      if (n > rows) throw new Error(`${n} rows asked of a scan of ${rows}`);
      query.set(q);
      if (chosen) {
        // Checked as copied: the kernel would read whatever lies at a bad row's address.
        for (let r = 0; r < n; r++) some[r] = rowIndex(chosen[r]!, rows);
      }
      dots(qAt, chosen ? someAt : allAt, n, vectorsAt, d, outAt);
      return new Float64Array(buffer, outAt, n);
    },
  };
}

/**
 * The same numbers in JavaScript: rows two at a time, sharing each load of the query, each
 * row's sum accumulated exactly as `dotProduct` does it.
 */
function jsScan(rows: number, d: number): VectorScan {
  const v = new Float32Array(rows * d);
  const out = new Float64Array(rows);
  const quads = d - (d % 4);
  return {
    rows,
    dimensions: d,
    vectors: v,
    kernel: 'js',
    dots(q, chosen) {
      const n = chosen ? chosen.length : rows;
      if (q.length !== d) throw new Error(`query of ${q.length} dimensions, the scan's ${d}`);
      if (n > rows) throw new Error(`${n} rows asked of a scan of ${rows}`);
      const rowAt = (r: number) => (chosen ? rowIndex(chosen[r]!, rows) : r);
      let r = 0;
      for (; r + 1 < n; r += 2) {
        const a = rowAt(r) * d;
        const b = rowAt(r + 1) * d;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        let i = 0;
        for (; i < quads; i += 4) {
          const q0 = q[i]!;
          const q1 = q[i + 1]!;
          const q2 = q[i + 2]!;
          const q3 = q[i + 3]!;
          a0 += v[a + i]! * q0;
          a1 += v[a + i + 1]! * q1;
          a2 += v[a + i + 2]! * q2;
          a3 += v[a + i + 3]! * q3;
          b0 += v[b + i]! * q0;
          b1 += v[b + i + 1]! * q1;
          b2 += v[b + i + 2]! * q2;
          b3 += v[b + i + 3]! * q3;
        }
        for (; i < d; i++) {
          a0 += v[a + i]! * q[i]!;
          b0 += v[b + i]! * q[i]!;
        }
        out[r] = a0 + a1 + a2 + a3;
        out[r + 1] = b0 + b1 + b2 + b3;
      }
      if (r < n) out[r] = dotProduct(v, rowAt(r) * d, q, d);
      return out.subarray(0, n);
    },
  };
}
