/**
 * Small dense factorizations on one block, in plain JS (float64): Householder QR, one-sided Jacobi SVD
 * and the back substitution of an upper-triangular system. The blocks of tall-and-skinny arrays are
 * m x n with n small (tens to hundreds of columns), so the work is O(m n^2) and runs on contiguous
 * columns: each kernel first copies its input column by column.
 *
 * They run as builtin block kernels of mapBlocks layers (worker/map-blocks-task.ts): `fn` is
 * "builtin:<name>", the kernel gets the input chunk and writes the output chunk in place. Deterministic
 * (fixed loop orders), so results are the same bits on every worker and rank.
 */

/** Block shapes and data as a kernel sees them (C order). */
export interface DenseBlock {
  data: Float64Array;
  shape: readonly number[];
}

/** A copy of the m x n row-major matrix `a` as n contiguous columns of m. */
function columns(a: Float64Array, m: number, n: number): Float64Array[] {
  const cols: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = a[i * n + j]!;
    cols.push(c);
  }
  return cols;
}

/**
 * Thin QR of the m x n input (m >= n) by Householder reflections: the output is (rows + n) x n, Q in
 * its first m rows (rows m .. rows-1 zero: padding the caller asked for, args[0] = rows) and R in the
 * last n (upper triangular, as LAPACK's geqrf: diagonal entries may be negative).
 */
export function qrBlock(input: DenseBlock, output: DenseBlock, args: readonly unknown[]): void {
  const [m, n] = input.shape as [number, number];
  const rows = typeof args[0] === "number" ? args[0] : m;
  if (m < n) throw new RangeError(`QR of a block of ${m} rows and ${n} columns: a block needs at least as many rows as columns`);
  if (output.shape[0] !== rows + n || output.shape[1] !== n || rows < m) throw new RangeError(`internal: qr output [${output.shape.join(", ")}] for input [${m}, ${n}] and ${rows} rows`);
  const a = columns(input.data, m, n);
  const vs: Float64Array[] = [];
  const taus = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    // the reflector H = I - tau v v^T (v[j] = 1) that maps a[j][j:] onto beta e_1
    const x = a[j]!;
    let norm2 = 0;
    for (let i = j + 1; i < m; i++) norm2 += x[i]! * x[i]!;
    const alpha = x[j]!;
    const v = new Float64Array(m);
    v[j] = 1;
    if (norm2 === 0) {
      taus[j] = 0;
      vs.push(v);
      continue;
    }
    const beta = -Math.sign(alpha || 1) * Math.sqrt(alpha * alpha + norm2);
    const scale = 1 / (alpha - beta);
    for (let i = j + 1; i < m; i++) v[i] = x[i]! * scale;
    const tau = (beta - alpha) / beta;
    taus[j] = tau;
    vs.push(v);
    x[j] = beta;
    for (let i = j + 1; i < m; i++) x[i] = 0;
    for (let k = j + 1; k < n; k++) applyReflector(v, tau, a[k]!, j, m);
  }
  const out = output.data;
  out.fill(0);
  // R: the upper triangle of what is left
  for (let i = 0; i < n; i++) for (let k = i; k < n; k++) out[(rows + i) * n + k] = a[k]![i]!;
  // Q = H_0 H_1 ... H_{n-1} [I; 0], built from the last reflector back
  const q: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const c = new Float64Array(m);
    c[k] = 1;
    q.push(c);
  }
  for (let j = n - 1; j >= 0; j--) for (let k = j; k < n; k++) applyReflector(vs[j]!, taus[j]!, q[k]!, j, m);
  for (let k = 0; k < n; k++) {
    const c = q[k]!;
    for (let i = 0; i < m; i++) out[i * n + k] = c[i]!;
  }
}

/** c <- (I - tau v v^T) c on rows from .. m-1 (v is zero above `from`). */
function applyReflector(v: Float64Array, tau: number, c: Float64Array, from: number, m: number): void {
  if (tau === 0) return;
  let s = 0;
  for (let i = from; i < m; i++) s += v[i]! * c[i]!;
  s *= tau;
  for (let i = from; i < m; i++) c[i] = c[i]! - s * v[i]!;
}

/**
 * SVD of the n x n input by one-sided Jacobi rotations (sweeps in a fixed cyclic order until every pair
 * of columns is orthogonal to machine precision): the output is (2n + 1) x n, U in its first n rows,
 * the singular values (descending) in row n, V^T in the last n.
 */
export function svdBlock(input: DenseBlock, output: DenseBlock): void {
  const [m, n] = input.shape as [number, number];
  if (output.shape[0] !== m + n + 1 || output.shape[1] !== n || m < n) throw new RangeError(`internal: svd output [${output.shape.join(", ")}] for input [${m}, ${n}]`);
  const u = columns(input.data, m, n);
  const v: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const c = new Float64Array(n);
    c[k] = 1;
    v.push(c);
  }
  const eps = 2 ** -52;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const up = u[p]!;
        const uq = u[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += up[i]! * up[i]!;
          beta += uq[i]! * uq[i]!;
          gamma += up[i]! * uq[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(up, uq, c, s, m);
        rotate(v[p]!, v[q]!, c, s, n);
      }
    }
    if (!rotated) break;
  }
  const sigma = u.map((c) => Math.sqrt(c.reduce((a, x) => a + x * x, 0)));
  const order = [...sigma.keys()].sort((x, y) => sigma[y]! - sigma[x]! || x - y);
  const out = output.data;
  order.forEach((k, j) => {
    const s = sigma[k]!;
    const col = u[k]!;
    for (let i = 0; i < m; i++) out[i * n + j] = s === 0 ? (i === j ? 1 : 0) : col[i]! / s;
    out[m * n + j] = s;
    const vk = v[k]!;
    for (let i = 0; i < n; i++) out[(m + 1 + j) * n + i] = vk[i]!;
  });
}

function rotate(x: Float64Array, y: Float64Array, c: number, s: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const a = x[i]!;
    const b = y[i]!;
    x[i] = c * a - s * b;
    y[i] = s * a + c * b;
  }
}

/**
 * Solves R X = B for the n x n upper-triangular R in the input's first n columns and the right-hand
 * sides B in the rest (n x (n + k) in all); the output is X (n x k). A zero on R's diagonal gives
 * non-finite values, as a singular system does in numpy's solve_triangular.
 */
export function solveUpperBlock(input: DenseBlock, output: DenseBlock): void {
  const [n, w] = input.shape as [number, number];
  const k = w - n;
  if (output.shape[0] !== n || output.shape[1] !== k) throw new RangeError(`internal: solve output [${output.shape.join(", ")}] for input [${n}, ${w}]`);
  const a = input.data;
  const x = output.data;
  for (let c = 0; c < k; c++) {
    for (let i = n - 1; i >= 0; i--) {
      let s = a[i * w + n + c]!;
      for (let j = i + 1; j < n; j++) s -= a[i * w + j]! * x[j * k + c]!;
      x[i * k + c] = s / a[i * w + i]!;
    }
  }
}

/** The builtin block kernels by name (mapBlocks layers whose fn is "builtin:<name>"). */
export const BLOCK_KERNELS: Record<string, (input: DenseBlock, output: DenseBlock, args: readonly unknown[]) => void> = {
  qr: qrBlock,
  svd: svdBlock,
  solveUpper: solveUpperBlock,
};
