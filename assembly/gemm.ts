// The GEMM kernel (src/kernels/abi.ts: the GEMM record and its canonical arithmetic): C = A·B or C += A·B
// in f64 or f32, any strides. BLIS's loop nest: for each NC-wide column panel of B and KC-deep slice of K,
// B's panel is packed (micro-panels of NR columns, k-major); for each MC-tall row block of A, A's block is
// packed (micro-panels of MR rows, k-major); then a register-blocked MR×NR microkernel runs over every
// (micro-panel of A, micro-panel of B) pair. Packing absorbs every stride, so the microkernel reads two
// contiguous streams. Each C element's sum runs in increasing k: within a KC slice in the microkernel's
// registers, across slices through C itself (loaded back with the next slice), which is why any blocking
// gives the bits of the plain sequential loop.
import {
  DT_F32, DT_F64, GEMM_KC, GEMM_MAGIC, GEMM_MC, GEMM_MR, GEMM_NC, GEMM_NV, GEMM_SCRATCH_BYTES, GEMM_SC_A, GEMM_SC_B,
  GEMM_SC_TILE, GEMM_WORDS, G_A, G_A_COL, G_A_ROW, G_B, G_BETA, G_B_COL, G_B_ROW, G_C, G_C_COL, G_C_ROW, G_DTYPE,
  G_K, G_M, G_MAGIC, G_N, G_SCRATCH, G_SCRATCH_BYTES, RC_BAD_HEADER, RC_BAD_MAGIC, RC_OK,
} from "./abi";

const MR = GEMM_MR; // rows of the microkernel's tile
const NV = GEMM_NV; // v128 vectors per tile row: NR = NV * lanes (4 f64 or 8 f32 columns)

/** acc + a * b: two roundings (the canonical arithmetic), or one in the FMA build (--enable relaxed-simd). */
// @ts-ignore: decorator
@inline function madd<T>(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return v128.relaxed_madd<T>(a, b, acc);
  return v128.add<T>(acc, v128.mul<T>(a, b));
}

/**
 * The MR×NR tile C[r, j] (row r at c + r * ldc bytes, columns contiguous) plus the product of a packed
 * MR×kc micro-panel of A (a: MR values per k) and a packed kc×NR micro-panel of B (b: NR values per k).
 * loadC false: the tile starts from +0.0 and C is not read. 12 accumulators + 2 B vectors + 1 A splat + 1
 * product need 16 xmm registers and V8 allocates 15 (xmm15 is its scratch), so V8 spills one accumulator
 * per k step; 4×4 (no spill) and the other shapes measured slower in the full kernel (bench/README.md).
 * The FMA build needs no product register.
 */
function micro<T>(kc: i32, a: usize, b: usize, c: usize, ldc: usize, loadC: bool): void {
  const E = <i32>sizeof<T>();
  let c00 = v128.splat<T>(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (loadC) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
    c50 = v128.load(c + 5 * ldc); c51 = v128.load(c + 5 * ldc, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load_splat<T>(a);
    c00 = madd<T>(c00, x, b0); c01 = madd<T>(c01, x, b1);
    x = v128.load_splat<T>(a, sizeof<T>());
    c10 = madd<T>(c10, x, b0); c11 = madd<T>(c11, x, b1);
    x = v128.load_splat<T>(a, 2 * sizeof<T>());
    c20 = madd<T>(c20, x, b0); c21 = madd<T>(c21, x, b1);
    x = v128.load_splat<T>(a, 3 * sizeof<T>());
    c30 = madd<T>(c30, x, b0); c31 = madd<T>(c31, x, b1);
    x = v128.load_splat<T>(a, 4 * sizeof<T>());
    c40 = madd<T>(c40, x, b0); c41 = madd<T>(c41, x, b1);
    x = v128.load_splat<T>(a, 5 * sizeof<T>());
    c50 = madd<T>(c50, x, b0); c51 = madd<T>(c51, x, b1);
    a += <usize>(MR * E);
    b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16);
  v128.store(c + 5 * ldc, c50); v128.store(c + 5 * ldc, c51, 16);
}

/**
 * Packs the mc×kc block of A at src (element (i, k) at src + i * rs + k * cs, byte strides) into
 * ceil(mc / MR) micro-panels: panel p holds rows p*MR .. p*MR+MR-1, value (k, r) at dst + (p*kc*MR + k*MR + r)
 * elements; rows past mc are zeros (their products land in tile rows that are never stored).
 */
function packA<T>(dst: usize, src: usize, rs: usize, cs: usize, mc: i32, kc: i32): void {
  const E = <i32>sizeof<T>();
  for (let p = 0; p < mc; p += MR) {
    const mr = min(MR, mc - p);
    const s = src + <usize>p * rs;
    if (rs == <usize>E && mr == MR) {
      // column-major A (e.g. a transposed row-major operand): each k's MR values are contiguous
      for (let k = 0; k < kc; k++) {
        const q = s + <usize>k * cs, d = dst + <usize>(k * MR) * E;
        for (let r = 0; r < MR; r++) store<T>(d + <usize>(r * E), load<T>(q + <usize>(r * E)));
      }
    } else {
      for (let r = 0; r < mr; r++) {
        let q = s + <usize>r * rs, d = dst + <usize>(r * E);
        for (let k = 0; k < kc; k++) {
          store<T>(d, load<T>(q));
          q += cs;
          d += <usize>(MR * E);
        }
      }
      for (let r = mr; r < MR; r++) {
        let d = dst + <usize>(r * E);
        for (let k = 0; k < kc; k++) {
          store<T>(d, <T>0);
          d += <usize>(MR * E);
        }
      }
    }
    dst += <usize>(kc * MR) * E;
  }
}

/**
 * Packs the kc×nc panel of B at src (element (k, j) at src + k * rs + j * cs) into ceil(nc / NR)
 * micro-panels: panel q holds columns q*NR .. q*NR+NR-1, value (k, j) at dst + (q*kc*NR + k*NR + j)
 * elements; columns past nc are zeros.
 */
function packB<T>(dst: usize, src: usize, rs: usize, cs: usize, nc: i32, kc: i32): void {
  const E = <i32>sizeof<T>();
  const NR = NV * (16 / E);
  for (let q = 0; q < nc; q += NR) {
    const nr = min(NR, nc - q);
    const s = src + <usize>q * cs;
    if (cs == <usize>E && nr == NR) {
      // row-major B: each k's NR values are two contiguous vectors
      let p = s, d = dst;
      for (let k = 0; k < kc; k++) {
        v128.store(d, v128.load(p));
        v128.store(d, v128.load(p, 16), 16);
        p += rs;
        d += <usize>(NR * E);
      }
    } else {
      for (let j = 0; j < nr; j++) {
        let p = s + <usize>j * cs, d = dst + <usize>(j * E);
        for (let k = 0; k < kc; k++) {
          store<T>(d, load<T>(p));
          p += rs;
          d += <usize>(NR * E);
        }
      }
      for (let j = nr; j < NR; j++) {
        let d = dst + <usize>(j * E);
        for (let k = 0; k < kc; k++) {
          store<T>(d, <T>0);
          d += <usize>(NR * E);
        }
      }
    }
    dst += <usize>(kc * NR) * E;
  }
}

/** The blocked product for one dtype; strides in bytes (wrapping u32 arithmetic gives the true addresses). */
function gemmBlocked<T>(m: i32, n: i32, k: i32, a: usize, ars: usize, acs: usize, b: usize, brs: usize, bcs: usize,
  c: usize, crs: usize, ccs: usize, beta: bool, scratch: usize): void {
  const E = <i32>sizeof<T>();
  const NR = NV * (16 / E);
  const ap = scratch + GEMM_SC_A, bp = scratch + GEMM_SC_B, tile = scratch + GEMM_SC_TILE;
  const ldt = <usize>(NR * E); // the tile's row stride
  for (let jc = 0; jc < n; jc += GEMM_NC) {
    const nc = min(GEMM_NC, n - jc);
    for (let pc = 0; pc < k; pc += GEMM_KC) {
      const kc = min(GEMM_KC, k - pc);
      const loadC = beta || pc > 0; // later slices continue each element's sum from C
      packB<T>(bp, b + <usize>pc * brs + <usize>jc * bcs, brs, bcs, nc, kc);
      for (let ic = 0; ic < m; ic += GEMM_MC) {
        const mc = min(GEMM_MC, m - ic);
        packA<T>(ap, a + <usize>ic * ars + <usize>pc * acs, ars, acs, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bq = bp + <usize>(jr * kc) * E;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const aq = ap + <usize>(ir * kc) * E;
            const ct = c + <usize>(ic + ir) * crs + <usize>(jc + jr) * ccs;
            if (mr == MR && nr == NR && ccs == <usize>E) {
              micro<T>(kc, aq, bq, ct, crs, loadC);
            } else {
              // edge or strided tile: through a contiguous MR×NR copy, of which only mr×nr is stored
              if (loadC) {
                for (let r = 0; r < mr; r++) {
                  for (let j = 0; j < nr; j++) store<T>(tile + <usize>(r * NR + j) * E, load<T>(ct + <usize>r * crs + <usize>j * ccs));
                }
              }
              micro<T>(kc, aq, bq, tile, ldt, loadC);
              for (let r = 0; r < mr; r++) {
                for (let j = 0; j < nr; j++) store<T>(ct + <usize>r * crs + <usize>j * ccs, load<T>(tile + <usize>(r * NR + j) * E));
              }
            }
          }
        }
      }
    }
  }
}

/** K = 0 with beta 0: C = +0.0. */
function zeroC<T>(m: i32, n: i32, c: usize, crs: usize, ccs: usize): void {
  for (let i = 0; i < m; i++) {
    let p = c + <usize>i * crs;
    for (let j = 0; j < n; j++) {
      store<T>(p, <T>0);
      p += ccs;
    }
  }
}

// ---- record validation (the JS twin, gemm-reference.ts, checks exactly the same)

const TWO31: f64 = 2147483648;
const TWO53: f64 = 9007199254740992;

// @ts-ignore: decorator
@inline function isInt(x: f64): bool {
  return Math.abs(x) <= TWO53 && Math.floor(x) == x;
}

/** Whether the rows×cols operand at base (strides rs, cs in elements) lies inside [0, memBytes). */
function inside(base: f64, rows: f64, cols: f64, rs: f64, cs: f64, e: f64, memBytes: f64): bool {
  if (rows == 0 || cols == 0) return true;
  const di = rows > 1 ? (rows - 1) * rs : 0, dk = cols > 1 ? (cols - 1) * cs : 0;
  const lo = base + (Math.min(di, 0) + Math.min(dk, 0)) * e;
  const hi = base + (Math.max(di, 0) + Math.max(dk, 0)) * e + e;
  return lo >= 0 && hi <= memBytes;
}

/** A stride as a byte stride for wrapping u32 address arithmetic (0 when its dimension is 1: never used). */
// @ts-ignore: decorator
@inline function byteStride(stride: f64, dim: f64, e: i32): usize {
  return dim > 1 ? <usize>(<i32>stride * e) : 0;
}

// @ts-ignore: decorator
@inline function word(rec: usize, i: i32): f64 {
  return load<f64>(rec + (<usize>i << 3));
}

/** gemm(rec): see src/kernels/abi.ts, "The GEMM record". */
export function gemm(rec: usize): i32 {
  const memBytes = <f64>memory.size() * 65536;
  if ((rec & 7) != 0 || <f64>rec + GEMM_WORDS * 8 > memBytes) return RC_BAD_HEADER;
  if (load<f64>(rec + G_MAGIC * 8) != <f64>GEMM_MAGIC) return RC_BAD_MAGIC;
  const dt = word(rec, G_DTYPE);
  if (dt != DT_F64 && dt != DT_F32) return RC_BAD_HEADER;
  const e: f64 = dt == DT_F64 ? 8 : 4;
  const m = word(rec, G_M), n = word(rec, G_N), k = word(rec, G_K);
  if (!(isInt(m) && isInt(n) && isInt(k) && m >= 0 && n >= 0 && k >= 0 && m < TWO31 && n < TWO31 && k < TWO31)) return RC_BAD_HEADER;
  const a = word(rec, G_A), ars = word(rec, G_A_ROW), acs = word(rec, G_A_COL);
  const b = word(rec, G_B), brs = word(rec, G_B_ROW), bcs = word(rec, G_B_COL);
  const c = word(rec, G_C), crs = word(rec, G_C_ROW), ccs = word(rec, G_C_COL);
  if (!(isInt(a) && isInt(ars) && isInt(acs) && isInt(b) && isInt(brs) && isInt(bcs) && isInt(c) && isInt(crs) && isInt(ccs))) return RC_BAD_HEADER;
  const beta = word(rec, G_BETA);
  if (beta != 0 && beta != 1) return RC_BAD_HEADER;
  const s = word(rec, G_SCRATCH), sb = word(rec, G_SCRATCH_BYTES);
  if (!(isInt(s) && isInt(sb) && s >= 0 && sb >= GEMM_SCRATCH_BYTES && s + GEMM_SCRATCH_BYTES <= memBytes)) return RC_BAD_HEADER;
  if ((<u32>s & 15) != 0) return RC_BAD_HEADER;
  if (!inside(a, m, k, ars, acs, e, memBytes) || !inside(b, k, n, brs, bcs, e, memBytes) || !inside(c, m, n, crs, ccs, e, memBytes)) return RC_BAD_HEADER;
  if (m == 0 || n == 0) return RC_OK;
  const E = <i32>e;
  const mi = <i32>m, ni = <i32>n, ki = <i32>k;
  const cp = <usize>c, crb = byteStride(crs, m, E), ccb = byteStride(ccs, n, E);
  if (ki == 0) {
    if (beta == 0) {
      if (dt == DT_F64) zeroC<f64>(mi, ni, cp, crb, ccb);
      else zeroC<f32>(mi, ni, cp, crb, ccb);
    }
    return RC_OK;
  }
  const arb = byteStride(ars, m, E), acb = byteStride(acs, k, E);
  const brb = byteStride(brs, k, E), bcb = byteStride(bcs, n, E);
  if (dt == DT_F64) gemmBlocked<f64>(mi, ni, ki, <usize>a, arb, acb, <usize>b, brb, bcb, cp, crb, ccb, beta != 0, <usize>s);
  else gemmBlocked<f32>(mi, ni, ki, <usize>a, arb, acb, <usize>b, brb, bcb, cp, crb, ccb, beta != 0, <usize>s);
  return RC_OK;
}

/**
 * The microkernel's own ceiling in this runtime (bench/gemm-kernel.mjs): reps calls of the f64 microkernel
 * on one kc-deep pair of packed micro-panels (kc <= GEMM_KC; in L1), as the blocked loop calls it, each
 * call loading and storing one C tile. The tiles rotate over 8 places (in the B panel's area, past the
 * micro-panel): a call that reloads the tile the previous call has just stored makes the CPU's loads wait
 * on (or replay after) those stores, a stall the blocked loop, which moves to another tile, never has.
 * The caller fills the scratch with ordinary numbers; 2 * MR * NR * kc flops per rep.
 */
export function gemmPeak(scratch: usize, kc: i32, reps: i32): void {
  const ap = scratch + GEMM_SC_A, bp = scratch + GEMM_SC_B;
  const tiles = bp + <usize>(GEMM_KC * NV * 16); // past the widest f64 micro-panel of B
  for (let r = 0; r < reps; r++) micro<f64>(kc, ap, bp, tiles + <usize>((r & 7) * MR * NV * 16), NV * 16, true);
}
