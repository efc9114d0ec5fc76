/**
 * RTT matrices in WebAssembly memory, and the SIMD pass the scan runs over them first
 * (row-bounds.wat): per row, in one read of four values per instruction, whether a value
 * is bad, whether one is over the cap, and else the deviation lower bound on C_s.
 *
 * Why: at a million servers × 16 players the scalar scan is bound by one JavaScript
 * operation per value, about as slow as the reference's dropping of over-cap rows; the
 * kernel checks and bounds four values per instruction (docs/match-placement.md has the
 * figures). The matrix must already live in the kernel's memory (a copy would cost as
 * much as the pass), so big callers build it with `rttMatrix`; any other array takes the
 * scalar path, with the same decisions (property-tested).
 */
import type { RttMatrix } from "./types";
import { ROW_BOUNDS_WASM } from "./row-bounds-wasm";

type RowBounds = (m: number, n: number, cap: number, out: number) => void;
type Kernel = { rowBounds: RowBounds; values: number };

const PAGE = 65_536;
const MAX_PAGES = 65_536; // 4 GiB, the 32-bit address space

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
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0) throw new RangeError(`matrix size must be whole numbers ≥ 0, got ${m} × ${n}`);
  const kernel = kernelModule();
  if (kernel === null) return new Float32Array(m * n);
  // The matrix, then one float per row for the pass's output.
  const pages = Math.max(1, Math.ceil(((m * n + m) * 4) / PAGE));
  if (pages > MAX_PAGES) throw new RangeError(`an RTT matrix of ${m} × ${n} values does not fit in 4 GiB`);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const instance = new WebAssembly.Instance(kernel, { env: { memory } });
  kernels.set(memory.buffer, { rowBounds: instance.exports.rowBounds as RowBounds, values: m * n });
  return new Float32Array(memory.buffer, 0, m * n);
}

/**
 * For a matrix made by rttMatrix: per row, NaN (a value is negative or NaN), +Infinity
 * (a value is above maxRttMs) or a lower bound on C_s. Null for any other array.
 * The result is a view the next call overwrites.
 */
export function rowBounds(rtt: RttMatrix, m: number, n: number, maxRttMs: number): Float32Array | null {
  const kernel = rtt instanceof Float32Array && rtt.byteOffset === 0 ? kernels.get(rtt.buffer) : undefined;
  if (!kernel || kernel.values !== m * n || rtt.length !== m * n || n < 2) return null;
  const out = m * n * 4;
  kernel.rowBounds(m, n, float32AtMost(maxRttMs), out);
  return new Float32Array(rtt.buffer, out, m);
}

/** The largest float32 ≤ x (x > 0): for float32 values v, v > x exactly when v > this. */
function float32AtMost(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  if (f[0]! > x) bits[0] = bits[0]! - 1;
  return f[0]!;
}
