import { absoluteDeviation, splitPairSumBound } from "./bounds";
import { closeness } from "./closeness";
import { invalidRttMessage } from "./request";
import { CHUNK, rowBounds, type RowVerdicts } from "./row-bounds";
import { PlacementInputError, type PlacementRequest, type RttMatrix } from "./types";

/**
 * Rounding margin on the bounds, relative to the row's sum: far above the rounding error
 * of the bounds and of the exact C_s (≈ n·2⁻⁵³ of the values), far below any gap that
 * matters, so a server whose C_s ties the cut is never skipped.
 */
const BOUND_SLACK = 1e-9;
/**
 * From this many players on, a server the deviation bound cannot skip gets the split bound
 * before its exact C_s: two passes over a row in cache cost less than the sort-based C_s.
 */
const SPLIT_BOUND_FROM = 24;

export type Scan = {
  /** 1 where some RTT exceeds the cap (rows of skipped servers are left at 0). */
  overCap: Uint8Array;
  /** Rows within the cap (not skipped). */
  eligibleCount: number;
  /** How many rows got their exact C_s (the rest were skipped by their bounds). */
  exactCount: number;
  /** Rows scored exactly, in row order, and their C_s: every eligible row whose C_s can be among the `keep` smallest. */
  scored: Int32Array;
  closeness: Float64Array;
};

/** What the scan reads of a request: the ids (for error messages) and the matrix. */
type ScanRequest = Pick<PlacementRequest, "servers" | "players" | "rttMs">;

/**
 * One pass over the matrix, row by row, with the row in cache for everything it needs:
 * 1. validity and the cap, folded into one test per value, and the row's sum; a row
 *    over the cap stops at its first far value (rowOverCap checks the rest for bad input).
 *    For a matrix made by rttMatrix, the SIMD pass (row-bounds.ts) has done this step
 *    and the deviation bound of step 2 for every row beforehand;
 * 2. for rows within the cap, when only the best `keep` by C_s are wanted and `keep`
 *    rows have been scored: the deviation bound (bounds.ts), then for larger rows the
 *    split bound; a row whose bound exceeds the keep-th smallest C_s so far cannot make
 *    the cut and is skipped;
 * 3. the exact C_s of the rest (closeness.ts).
 * The bar only falls as rows are scored, so after a few hundred rows almost every row
 * stops at step 2. `skip[s]` = 1 marks servers excluded for other reasons: their values
 * are still checked (bad input is refused whichever row it is in).
 */
export function scanRows(request: ScanRequest, maxRttMs: number, skip: Uint8Array | null, keep: number): Scan {
  const rtt = request.rttMs;
  const m = request.servers.length;
  const n = request.players.length;
  const cut = new Cut(rtt, n, keep < m ? keep : 0, keep < m ? 2 * keep + 64 : m);
  const simd = rowBounds(rtt, m, n, maxRttMs);
  const { overCap, eligibleCount } = simd
    ? firstHalfFromBounds(request, simd, maxRttMs, skip, cut)
    : firstHalfScalar(request, maxRttMs, skip, cut);
  // Rows scored early, before the bar settled, may since have fallen out of the cut.
  return { overCap, eligibleCount, exactCount: cut.exactCount, ...cut.scored.within(cut.bar) };
}

/** Steps 1 and 2 from the SIMD pass's verdicts: only rows whose bound is under the bar are looked at. */
function firstHalfFromBounds(
  request: ScanRequest,
  verdicts: RowVerdicts,
  cap: number,
  skip: Uint8Array | null,
  cut: Cut,
) {
  const m = request.servers.length;
  const { bounds } = verdicts;
  let eligibleCount = verdicts.withinCap;
  if (verdicts.withinCap + verdicts.overCapCount < m) eligibleCount += resolveFlaggedRows(request, verdicts, cap);
  const overCap = verdicts.overCap.slice();
  if (skip !== null) {
    for (let s = 0; s < m; s++) {
      if (skip[s] === 0) continue;
      if (overCap[s] === 1) overCap[s] = 0;
      else eligibleCount--;
    }
  }
  for (let from = 0; from < m; from += CHUNK) {
    for (const s of verdicts.rowsAtMost(from, Math.min(m, from + CHUNK), cut.bar)) {
      if ((skip === null || skip[s] === 0) && bounds[s]! <= cut.bar) cut.consider(s, null);
    }
  }
  return { overCap, eligibleCount };
}

/**
 * Rows the SIMD pass flagged NaN: a bad value (rowOverCap names it and throws) or a
 * negative zero, which is a good 0. Those rows get their verdict here: over the cap, or
 * a bound of −Infinity so that they are scored exactly. Returns how many are within the cap.
 */
function resolveFlaggedRows(request: ScanRequest, verdicts: RowVerdicts, cap: number): number {
  let within = 0;
  for (let s = 0; s < verdicts.bounds.length; s++) {
    if (!Number.isNaN(verdicts.bounds[s])) continue;
    const over = rowOverCap(request, s, cap, false);
    verdicts.bounds[s] = over ? Infinity : -Infinity;
    verdicts.overCap[s] = over ? 1 : 0;
    if (!over) within++;
  }
  return within;
}

/** Steps 1 and 2 in JavaScript, for any other array. */
function firstHalfScalar(request: ScanRequest, cap: number, skip: Uint8Array | null, cut: Cut) {
  const rtt = request.rttMs;
  const m = request.servers.length;
  const n = request.players.length;
  const overCap = new Uint8Array(m);
  const pairs = (n * (n - 1)) / 2;
  // x·(cap − x) ≥ 0 ⇔ 0 ≤ x ≤ cap, false for NaN and ±Infinity: one test per value. A
  // cap below 1 lets the product of a tiny negative x underflow to −0: check exactly then.
  const recheck = !(cap >= 1);
  const n4 = n & ~3;
  let eligibleCount = 0;

  for (let s = 0; s < m; s++) {
    const offset = s * n;
    const end = offset + n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let outside = false;
    let p = offset;
    for (const end4 = offset + n4; p < end4; p += 4) {
      const a = rtt[p]!;
      const b = rtt[p + 1]!;
      const c = rtt[p + 2]!;
      const d = rtt[p + 3]!;
      s0 += a;
      s1 += b;
      s2 += c;
      s3 += d;
      if (!(a * (cap - a) >= 0 && b * (cap - b) >= 0 && c * (cap - c) >= 0 && d * (cap - d) >= 0)) {
        outside = true;
        break; // the rest of the row only needs checking for bad values (rowOverCap)
      }
    }
    for (; p < end && !outside; p++) {
      const a = rtt[p]!;
      s0 += a;
      if (!(a * (cap - a) >= 0)) outside = true;
    }
    if ((outside || recheck) && rowOverCap(request, s, cap, outside)) {
      if (skip === null || skip[s] === 0) overCap[s] = 1;
      continue;
    }
    if (skip !== null && skip[s] === 1) continue;
    eligibleCount++;
    const sum = s0 + s1 + s2 + s3;
    if (
      cut.bar < Infinity &&
      (n / 2) * absoluteDeviation(rtt, offset, n, sum / n) - BOUND_SLACK * sum * pairs > cut.bar * pairs
    )
      continue;
    cut.consider(s, sum);
  }
  return { overCap, eligibleCount };
}

/** The best `size` rows by C_s so far, and the rows scored on the way (step 3). */
class Cut {
  private readonly best: BestScores;
  readonly scored: GrowingList;
  private readonly pairs: number;
  exactCount = 0;
  /** C_s above this cannot make the cut (Infinity until `size` rows were scored, and for size 0: keep all). */
  bar: number;

  constructor(
    private readonly rtt: RttMatrix,
    private readonly n: number,
    size: number,
    capacity: number,
  ) {
    this.best = new BestScores(size);
    this.scored = new GrowingList(capacity);
    this.pairs = (n * (n - 1)) / 2;
    this.bar = this.best.bar();
  }

  /** Row s passed the deviation bound: the split bound for larger rows, then its exact C_s. `sum`: the row's, if known. */
  consider(s: number, sum: number | null): void {
    const { rtt, n, pairs } = this;
    const offset = s * n;
    if (this.bar < Infinity && n >= SPLIT_BOUND_FROM) {
      const total = sum ?? rowSum(rtt, offset, n);
      if (splitPairSumBound(rtt, offset, n, total) - BOUND_SLACK * total * pairs > this.bar * pairs) return;
    }
    const score = closeness(rtt, offset, n);
    this.exactCount++;
    if (score <= this.bar) {
      this.best.offer(score);
      this.bar = this.best.bar();
      this.scored.push(s, score);
    }
  }
}

/** The `size` smallest scores offered so far (a max-heap); `bar` is the largest of them once full. */
class BestScores {
  private readonly heap: Float64Array;
  private count = 0;

  constructor(private readonly size: number) {
    this.heap = new Float64Array(size);
  }

  /** Scores above this cannot be among the best `size`; Infinity until `size` were offered (always, for size 0). */
  bar(): number {
    return this.size > 0 && this.count === this.size ? this.heap[0]! : Infinity;
  }

  offer(score: number): void {
    const heap = this.heap;
    if (this.size === 0) return;
    if (this.count < this.size) {
      let i = this.count++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! >= score) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = score;
      return;
    }
    if (score >= heap[0]!) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && heap[child + 1]! > heap[child]!) child++;
      if (heap[child]! <= score) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = score;
  }
}

/** Row indices with their scores, in typed arrays that double when full. */
class GrowingList {
  private rows: Int32Array;
  private scores: Float64Array;
  private length = 0;

  constructor(capacity: number) {
    this.rows = new Int32Array(Math.max(capacity, 16));
    this.scores = new Float64Array(Math.max(capacity, 16));
  }

  push(row: number, score: number): void {
    if (this.length === this.rows.length) {
      const rows = new Int32Array(2 * this.length);
      const scores = new Float64Array(2 * this.length);
      rows.set(this.rows);
      scores.set(this.scores);
      this.rows = rows;
      this.scores = scores;
    }
    this.rows[this.length] = row;
    this.scores[this.length++] = score;
  }

  /** The entries whose score is at most `bar`, in the order pushed. */
  within(bar: number): { scored: Int32Array; closeness: Float64Array } {
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      if (this.scores[i]! <= bar) {
        this.rows[kept] = this.rows[i]!;
        this.scores[kept++] = this.scores[i]!;
      }
    }
    return { scored: this.rows.subarray(0, kept), closeness: this.scores.subarray(0, kept) };
  }
}

/**
 * Whether row s has a value over the cap; throws, naming it, at the first invalid value.
 * `outside`: the scan saw a value outside [0, cap]. Then, if every value is ≥ 0 (one
 * branch-free pass: |x| − x is exactly 0 for x ≥ 0, positive below, NaN for NaN and
 * Infinity), the row is over the cap: the common case of a far server, kept cheap.
 */
function rowOverCap(request: ScanRequest, s: number, cap: number, outside: boolean): boolean {
  const rtt = request.rttMs;
  const n = request.players.length;
  const offset = s * n;
  if (outside) {
    let n0 = 0;
    let n1 = 0;
    let n2 = 0;
    let n3 = 0;
    const end = offset + n;
    let p = offset;
    for (const end4 = offset + (n & ~3); p < end4; p += 4) {
      n0 += Math.abs(rtt[p]!) - rtt[p]!;
      n1 += Math.abs(rtt[p + 1]!) - rtt[p + 1]!;
      n2 += Math.abs(rtt[p + 2]!) - rtt[p + 2]!;
      n3 += Math.abs(rtt[p + 3]!) - rtt[p + 3]!;
    }
    for (; p < end; p++) n0 += Math.abs(rtt[p]!) - rtt[p]!;
    if (n0 + n1 + n2 + n3 === 0) return true;
  }
  let over = false;
  for (let p = 0; p < n; p++) {
    const x = rtt[offset + p]!;
    if (!(x >= 0)) throw new PlacementInputError(invalidRttMessage(request.servers[s]!, request.players[p]!, x));
    if (x > cap) over = true;
  }
  return over;
}

function rowSum(rtt: RttMatrix, offset: number, n: number): number {
  let sum = 0;
  for (let p = offset; p < offset + n; p++) sum += rtt[p]!;
  return sum;
}

/** Min, max and the first player with the max, of one server's row. */
export function rowExtremes(rtt: RttMatrix, offset: number, n: number): { min: number; max: number; worst: number } {
  let min = Infinity;
  let max = -Infinity;
  let worst = 0;
  for (let p = 0; p < n; p++) {
    const x = rtt[offset + p]!;
    if (x > max) {
      max = x;
      worst = p;
    }
    if (x < min) min = x;
  }
  return { min: min + 0, max: max + 0, worst }; // + 0: a negative zero reads 0, as Math.max gives
}
