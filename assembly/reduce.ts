// Reductions of a register tile into f64 accumulator slots (abi.ts: RSUM RPROD RMIN RMAX RARGMIN RARGMAX RVAR).
// Scalar mode (slot last == 0): one accumulator; vector mode (last == 1): one accumulator per column.
// Only [0, len) of the register is read and only len accumulators are touched.

/** tileSum: p[i % 4] += v[i]; (p0 + p1) + (p2 + p3). Two f64x2 accumulators are exactly p01 and p23. */
export function tileSum(a: usize, len: i32): f64 {
  let p01 = f64x2.splat(0.0);
  let p23 = f64x2.splat(0.0);
  const n = <usize>len << 3;
  const n4 = <usize>(len & ~3) << 3;
  let i: usize = 0;
  for (; i < n4; i += 32) {
    p01 = f64x2.add(p01, v128.load(a + i));
    p23 = f64x2.add(p23, v128.load(a + i, 16));
  }
  let p0 = f64x2.extract_lane(p01, 0);
  let p1 = f64x2.extract_lane(p01, 1);
  let p2 = f64x2.extract_lane(p23, 0);
  const p3 = f64x2.extract_lane(p23, 1);
  if (i < n) p0 += load<f64>(a + i);
  if (i + 8 < n) p1 += load<f64>(a + i, 8);
  if (i + 16 < n) p2 += load<f64>(a + i, 16);
  return (p0 + p1) + (p2 + p3);
}

/** tileProd: as tileSum with * and 1. */
export function tileProd(a: usize, len: i32): f64 {
  let p01 = f64x2.splat(1.0);
  let p23 = f64x2.splat(1.0);
  const n = <usize>len << 3;
  const n4 = <usize>(len & ~3) << 3;
  let i: usize = 0;
  for (; i < n4; i += 32) {
    p01 = f64x2.mul(p01, v128.load(a + i));
    p23 = f64x2.mul(p23, v128.load(a + i, 16));
  }
  let p0 = f64x2.extract_lane(p01, 0);
  let p1 = f64x2.extract_lane(p01, 1);
  let p2 = f64x2.extract_lane(p23, 0);
  const p3 = f64x2.extract_lane(p23, 1);
  if (i < n) p0 *= load<f64>(a + i);
  if (i + 8 < n) p1 *= load<f64>(a + i, 8);
  if (i + 16 < n) p2 *= load<f64>(a + i, 16);
  return (p0 * p1) * (p2 * p3);
}

/** NaN-propagating min (isMax false) or max of a[0..len) folded into acc. */
export function tileMinMax(acc: f64, a: usize, len: i32, isMax: bool): f64 {
  const n = <usize>len << 3;
  const n4 = <usize>(len & ~3) << 3;
  let m0 = f64x2.splat(acc);
  let m1 = m0;
  let i: usize = 0;
  if (isMax) {
    for (; i < n4; i += 32) {
      m0 = f64x2.max(m0, v128.load(a + i));
      m1 = f64x2.max(m1, v128.load(a + i, 16));
    }
    m0 = f64x2.max(m0, m1);
    let r = Math.max(f64x2.extract_lane(m0, 0), f64x2.extract_lane(m0, 1));
    for (; i < n; i += 8) r = Math.max(r, load<f64>(a + i));
    return r;
  }
  for (; i < n4; i += 32) {
    m0 = f64x2.min(m0, v128.load(a + i));
    m1 = f64x2.min(m1, v128.load(a + i, 16));
  }
  m0 = f64x2.min(m0, m1);
  let r = Math.min(f64x2.extract_lane(m0, 0), f64x2.extract_lane(m0, 1));
  for (; i < n; i += 8) r = Math.min(r, load<f64>(a + i));
  return r;
}

/** Vector mode RSUM / RPROD / RMIN / RMAX: acc[c] = acc[c] op a[c]. kind: 0 sum, 1 prod, 2 min, 3 max. */
export function accumulateVector(kind: i32, acc: usize, a: usize, len: i32): void {
  const n = <usize>len << 3;
  const n2 = <usize>(len & ~1) << 3;
  let i: usize = 0;
  if (kind == 0) {
    for (; i < n2; i += 16) v128.store(acc + i, f64x2.add(v128.load(acc + i), v128.load(a + i)));
    if (i < n) store<f64>(acc + i, load<f64>(acc + i) + load<f64>(a + i));
  } else if (kind == 1) {
    for (; i < n2; i += 16) v128.store(acc + i, f64x2.mul(v128.load(acc + i), v128.load(a + i)));
    if (i < n) store<f64>(acc + i, load<f64>(acc + i) * load<f64>(a + i));
  } else if (kind == 2) {
    for (; i < n2; i += 16) v128.store(acc + i, f64x2.min(v128.load(acc + i), v128.load(a + i)));
    if (i < n) store<f64>(acc + i, Math.min(load<f64>(acc + i), load<f64>(a + i)));
  } else {
    for (; i < n2; i += 16) v128.store(acc + i, f64x2.max(v128.load(acc + i), v128.load(a + i)));
    if (i < n) store<f64>(acc + i, Math.max(load<f64>(acc + i), load<f64>(a + i)));
  }
}

// @ts-ignore: decorator
@inline function better(isMax: bool, skipNaN: bool, a: f64, val: f64, idx: f64): bool {
  if (skipNaN) return a == a && (idx == -1 || (isMax ? a > val : a < val));
  return idx == -1 || (isMax ? a > val : a < val) || (a != a && val == val);
}

/**
 * RARGMIN / RARGMAX. Scalar mode: one (val, idx) pair at pv / pi; vector mode: pairs per column.
 * The element index of column c is xRow + (c0 + c) * xLast.
 */
export function argReduce(isMax: bool, skipNaN: bool, vector: bool, pv: usize, pi: usize, a: usize, len: i32, xRow: f64, xLast: f64, c0: i32): void {
  if (!vector) {
    let val = load<f64>(pv);
    let idx = load<f64>(pi);
    for (let c = 0; c < len; c++) {
      const x = load<f64>(a + (<usize>c << 3));
      if (better(isMax, skipNaN, x, val, idx)) {
        val = x;
        idx = xRow + <f64>(c0 + c) * xLast;
      }
    }
    store<f64>(pv, val);
    store<f64>(pi, idx);
    return;
  }
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const x = load<f64>(a + o);
    if (better(isMax, skipNaN, x, load<f64>(pv + o), load<f64>(pi + o))) {
      store<f64>(pv + o, x);
      store<f64>(pi + o, xRow + <f64>(c0 + c) * xLast);
    }
  }
}

/** Scalar-mode RVAR: Chan's combination of the tile's (len, mean, M2) into (pn, pm, pM2). */
export function varScalar(pn: usize, pm: usize, pM2: usize, a: usize, len: i32): void {
  const nb = <f64>len;
  const mb = tileSum(a, len) / nb;
  // M2b = tileSum((a - mb)^2), with the same p[i % 4] association
  const m = f64x2.splat(mb);
  let p01 = f64x2.splat(0.0);
  let p23 = f64x2.splat(0.0);
  const n = <usize>len << 3;
  const n4 = <usize>(len & ~3) << 3;
  let i: usize = 0;
  for (; i < n4; i += 32) {
    const d0 = f64x2.sub(v128.load(a + i), m);
    const d1 = f64x2.sub(v128.load(a + i, 16), m);
    p01 = f64x2.add(p01, f64x2.mul(d0, d0));
    p23 = f64x2.add(p23, f64x2.mul(d1, d1));
  }
  let p0 = f64x2.extract_lane(p01, 0);
  let p1 = f64x2.extract_lane(p01, 1);
  let p2 = f64x2.extract_lane(p23, 0);
  const p3 = f64x2.extract_lane(p23, 1);
  if (i < n) { const d = load<f64>(a + i) - mb; p0 += d * d; }
  if (i + 8 < n) { const d = load<f64>(a + i, 8) - mb; p1 += d * d; }
  if (i + 16 < n) { const d = load<f64>(a + i, 16) - mb; p2 += d * d; }
  const M2b = (p0 + p1) + (p2 + p3);
  const na = load<f64>(pn);
  if (na == 0) {
    store<f64>(pn, nb);
    store<f64>(pm, mb);
    store<f64>(pM2, M2b);
    return;
  }
  const ma = load<f64>(pm);
  const N = na + nb;
  const d = mb - ma;
  store<f64>(pm, ma + d * (nb / N));
  store<f64>(pM2, (load<f64>(pM2) + M2b) + d * d * (na * nb / N));
  store<f64>(pn, N);
}

/** Vector-mode RVAR (Welford per column). */
export function varVector(pn: usize, pm: usize, pM2: usize, a: usize, len: i32): void {
  for (let c = 0; c < len; c++) {
    const o = <usize>c << 3;
    const x = load<f64>(a + o);
    const n = load<f64>(pn + o) + 1;
    const mean = load<f64>(pm + o);
    const d = x - mean;
    const mean2 = mean + d / n;
    store<f64>(pn + o, n);
    store<f64>(pm + o, mean2);
    store<f64>(pM2 + o, load<f64>(pM2 + o) + d * (x - mean2));
  }
}
