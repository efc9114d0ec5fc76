/**
 * Least-absolute-deviation regression with a ridge penalty, by iteratively reweighted
 * least squares (IRLS). Minimises  Σ |x_i·θ − y_i| + Σ_j penalty_j · θ_j² + Σ_k (p_k·θ − t_k)²,
 * the last sum over optional prior rows (a ridge toward targets other than 0).
 * L1 rather than L2 so that a few wild pairs (mislocated servers, anycast) cannot
 * bend the fit. Deterministic: fixed start, fixed iteration cap, no randomness.
 */

/** One observation with a sparse regressor; repeated indices add up. */
export type SparseRow = { index: readonly number[]; value: readonly number[]; target: number };

export type LadOptions = {
  /** Number of coefficients. */
  size: number;
  /** Ridge weight per coefficient (0 = unpenalised). */
  penalty: ArrayLike<number>;
  maxIterations?: number;
  /** Residuals below this count as this when reweighting (keeps weights finite). */
  residualFloor?: number;
  /** Rows p_k, t_k that add Σ (p_k·θ − t_k)² to the objective: a Gaussian prior on p_k·θ. */
  prior?: readonly SparseRow[];
};

export function fitLad(rows: readonly SparseRow[], options: LadOptions): Float64Array {
  const { size, penalty, maxIterations = 60, residualFloor = 1e-3, prior = [] } = options;
  const packed = pack([...rows, ...prior]);
  // The solver minimises ½ Σ w r²: weight 2 makes a prior row's term its plain square,
  // held fixed; the data rows start at 1 (a first pass of plain least squares).
  const weights = new Float64Array(rows.length + prior.length).fill(1).fill(2, rows.length);
  let theta: Float64Array = new Float64Array(size);
  let previous = Infinity;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    theta = solveWeighted(packed, weights, penalty, size);
    let objective = 0;
    for (let j = 0; j < size; j++) objective += (penalty[j] ?? 0) * (theta[j] ?? 0) ** 2;
    for (let i = rows.length; i < weights.length; i++)
      objective += (dot(packed, i, theta) - (packed.target[i] ?? 0)) ** 2;
    for (let i = 0; i < rows.length; i++) {
      const r = Math.abs(dot(packed, i, theta) - (packed.target[i] ?? 0));
      objective += r;
      // IRLS for L1: weight 1/|r| turns Σ w r² into Σ |r| at the fixed point.
      weights[i] = 1 / Math.max(r, residualFloor);
    }
    // Stop once a step improves the objective by < 0.001 %: far below the data noise.
    if (previous - objective <= 1e-5 * objective) break;
    previous = objective;
  }
  return theta;
}

export function predict(row: Pick<SparseRow, "index" | "value">, theta: ArrayLike<number>): number {
  let sum = 0;
  row.index.forEach((j, k) => (sum += (row.value[k] ?? 0) * (theta[j] ?? 0)));
  return sum;
}

/** Rows flattened into typed arrays (CSR layout): the hot loops below run over these. */
type Packed = { start: Int32Array; index: Int32Array; value: Float64Array; target: Float64Array };

function pack(rows: readonly SparseRow[]): Packed {
  const total = rows.reduce((n, r) => n + r.index.length, 0);
  const packed: Packed = {
    start: new Int32Array(rows.length + 1),
    index: new Int32Array(total),
    value: new Float64Array(total),
    target: new Float64Array(rows.length),
  };
  let at = 0;
  rows.forEach((row, i) => {
    packed.index.set(row.index, at);
    packed.value.set(row.value, at);
    at += row.index.length;
    packed.start[i + 1] = at;
    packed.target[i] = row.target;
  });
  return packed;
}

function dot(rows: Packed, i: number, theta: Float64Array): number {
  let sum = 0;
  for (let k = rows.start[i] ?? 0, end = rows.start[i + 1] ?? 0; k < end; k++) {
    sum += (rows.value[k] ?? 0) * (theta[rows.index[k] ?? 0] ?? 0);
  }
  return sum;
}

/** Solves (Xᵀ W X + 2·diag(penalty)) θ = Xᵀ W y. */
function solveWeighted(rows: Packed, weights: Float64Array, penalty: ArrayLike<number>, size: number): Float64Array {
  const a = new Float64Array(size * size);
  const b = new Float64Array(size);
  const { start, index, value, target } = rows;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] ?? 0;
    const from = start[i] ?? 0;
    const to = start[i + 1] ?? 0;
    for (let p = from; p < to; p++) {
      const jp = index[p] ?? 0;
      const wv = w * (value[p] ?? 0);
      b[jp] = (b[jp] ?? 0) + wv * (target[i] ?? 0);
      // Upper triangle only, mirrored below: halves the hot loop.
      for (let q = from; q < to; q++) {
        const jq = index[q] ?? 0;
        if (jq >= jp) a[jp * size + jq] = (a[jp * size + jq] ?? 0) + wv * (value[q] ?? 0);
      }
    }
  }
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < r; c++) a[r * size + c] = a[c * size + r] ?? 0;
    // A tiny jitter keeps unpenalised, data-free coefficients solvable.
    a[r * size + r] = (a[r * size + r] ?? 0) + 2 * (penalty[r] ?? 0) + 1e-9;
  }
  return choleskySolve(a, b, size);
}

/** Solves A x = b for a symmetric positive definite A (row-major, n×n). */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  const at = (m: Float64Array, i: number) => m[i] ?? 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = at(a, i * n + j);
      for (let k = 0; k < j; k++) sum -= at(l, i * n + k) * at(l, j * n + k);
      if (i === j) {
        if (!(sum > 0)) throw new Error(`matrix is not positive definite (pivot ${i})`);
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / at(l, j * n + j);
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = at(b, i);
    for (let k = 0; k < i; k++) sum -= at(l, i * n + k) * at(y, k);
    y[i] = sum / at(l, i * n + i);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = at(y, i);
    for (let k = i + 1; k < n; k++) sum -= at(l, k * n + i) * at(x, k);
    x[i] = sum / at(l, i * n + i);
  }
  return x;
}
