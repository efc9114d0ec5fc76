/**
 * RTT matrices in WebAssembly memory, and the SIMD pass the scan runs over them first
 * (row-bounds.wat): per row, in one read of four values per instruction, whether a value
 * is bad, whether one is over the cap, and else the deviation lower bound on C_s; then,
 * as the bar falls, the rows whose bound is still under it.
 *
 * Why: at a million servers × 16 players the scalar scan costs a few JavaScript
 * operations per value, as much as the reference's dropping of over-cap rows; the kernel
 * does four values per instruction (docs/match-placement.md has the figures). The matrix
 * must already live in the kernel's memory (a copy would cost as much as the pass), so
 * callers with big matrices build them with `rttMatrix`; any other array takes the
 * scalar path, with the same decisions (property-tested on both).
 */
import type { RttMatrix } from "./types";
import { ROW_BOUNDS_WASM } from "./row-bounds-wasm";

/** Rows per rowsAtMost call: the bar is re-read between chunks. */
export const CHUNK = 4096;
const PAGE = 65_536;
const MAX_PAGES = 65_536; // 4 GiB, the 32-bit address space

type KernelExports = {
  rowBounds(m: number, n: number, cap: number, out: number, flags: number, counts: number): void;
  rowsAtMost(out: number, from: number, to: number, bar: number, found: number): number;
};
/** Byte offsets in the kernel's memory, after the matrix. */
type Layout = { bounds: number; flags: number; counts: number; found: number; end: number };
type Kernel = { exports: KernelExports; m: number; n: number; layout: Layout };

function layoutOf(m: number, n: number): Layout {
  const bounds = 4 * m * n;
  const flags = bounds + 4 * m;
  const counts = flags + 4 * Math.ceil(m / 4);
  const found = counts + 8;
  return { bounds, flags, counts, found, end: found + 4 * CHUNK };
}

let compiled: WebAssembly.Module | null | undefined;
/** The compiled kernel, or null where WebAssembly SIMD is missing (the scalar path then serves). */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(ROW_BOUNDS_WASM, "base64");
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/** Matrices made by rttMatrix, by their memory. */
const kernels = new WeakMap<ArrayBufferLike, Kernel>();

/**
 * A zeroed matrix of m servers × n players (row-major, `[s * n + p]`, float32: RTTs in ms
 * keep 7 significant digits), placed where the scan's SIMD pass reads it in place.
 */
export function rttMatrix(m: number, n: number): Float32Array {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0)
    throw new RangeError(`matrix size must be whole numbers ≥ 0, got ${m} × ${n}`);
  const compiledKernel = kernelModule();
  if (compiledKernel === null) return new Float32Array(m * n);
  const layout = layoutOf(m, n);
  const pages = Math.max(1, Math.ceil(layout.end / PAGE));
  if (pages > MAX_PAGES) throw new RangeError(`an RTT matrix of ${m} × ${n} values does not fit in 4 GiB`);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(compiledKernel, { env: { memory } });
  kernels.set(memory.buffer, { exports: instance.exports as unknown as KernelExports, m, n, layout });
  return new Float32Array(memory.buffer, 0, m * n);
}

/** The SIMD pass's verdicts on one matrix: views into its memory, overwritten by the next pass. */
export type RowVerdicts = {
  /** Per row: NaN (a bad value, or a negative zero the bits read as negative), +Infinity (over the cap) or a lower bound on C_s. */
  bounds: Float32Array;
  /** Per row: 1 where over the cap. */
  overCap: Uint8Array;
  /** Rows with a bound (within the cap, every value good). */
  withinCap: number;
  overCapCount: number;
  /** The rows in [from, to) (at most CHUNK of them) whose bound is finite and at most `bar`, in order. Overwritten by the next call. */
  rowsAtMost(from: number, to: number, bar: number): Int32Array;
};

/** Runs the SIMD pass on a matrix made by rttMatrix; null for any other array. */
export function rowBounds(rtt: RttMatrix, m: number, n: number, maxRttMs: number): RowVerdicts | null {
  const kernel = rtt instanceof Float32Array && rtt.byteOffset === 0 ? kernels.get(rtt.buffer) : undefined;
  if (!kernel || kernel.m !== m || kernel.n !== n || n < 2) return null;
  const { exports, layout } = kernel;
  const buffer = rtt.buffer;
  exports.rowBounds(m, n, float32AtMost(maxRttMs), layout.bounds, layout.flags, layout.counts);
  const [withinCap, overCapCount] = new Int32Array(buffer, layout.counts, 2);
  const found = new Int32Array(buffer, layout.found, CHUNK);
  return {
    bounds: new Float32Array(buffer, layout.bounds, m),
    overCap: new Uint8Array(buffer, layout.flags, m),
    withinCap: withinCap!,
    overCapCount: overCapCount!,
    rowsAtMost(from, to, bar) {
      if (to - from > CHUNK) throw new RangeError(`at most ${CHUNK} rows at a time`);
      // The bar goes in rounded to float32: rounding keeps order, so no bound ≤ bar is missed.
      return found.subarray(0, exports.rowsAtMost(layout.bounds, from, to, bar, layout.found));
    },
  };
}

const scratch = new Float32Array(1);
const scratchBits = new Int32Array(scratch.buffer);

/** The largest float32 ≤ x (x > 0): for float32 values v, v > x exactly when v > this (rounding x to nearest could round up). */
function float32AtMost(x: number): number {
  scratch[0] = x;
  if (scratch[0]! > x) scratchBits[0] = scratchBits[0]! - 1;
  return scratch[0]!;
}
