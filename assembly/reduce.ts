// Reductions of a register tile into f64 accumulator slots (abi.ts: RSUM RPROD RMIN RMAX RARGMIN RARGMAX RVAR).
// Scalar mode (slot last == 0): one accumulator; vector mode (last == 1): one accumulator per column.
// Only [0, len) of the register is read and only len accumulators are touched.

// tileSum and tileProd (abi.ts): 16 interleaved accumulators p[i % 16], folded by halves. Eight f64x2
// accumulators are exactly p_{2k}, p_{2k+1} (k = 0..7); a tail of r < 16 elements feeds pair k with
// elements 2k, 2k+1 of the tail where they exist and the identity (0 or 1) where not, which leaves the
// accumulator's bits unchanged (+0 + x == x for every accumulator value reachable from +0, x * 1 == x).

/** The k-th pair of a tail of r elements at t, with `identity` for lanes past the tail's end. */
// @ts-ignore: decorator
@inline function tailPair(t: usize, k: i32, r: i32, identity: f64): v128 {
  const o = <usize>k << 4;
  if (2 * k + 2 <= r) return v128.load(t + o);
  if (2 * k + 1 == r) return f64x2.replace_lane(f64x2.splat(identity), 0, load<f64>(t + o));
  return f64x2.splat(identity);
}

/** (x - m)^2 on two lanes. */
// @ts-ignore: decorator
@inline function sq(x: v128, m: v128): v128 {
  const d = f64x2.sub(x, m);
  return f64x2.mul(d, d);
}

/** sq of the k-th pair of a tail of r elements at t, +0 for lanes past the tail's end. */
// @ts-ignore: decorator
@inline function sqTail(t: usize, k: i32, r: i32, m: v128): v128 {
  const o = <usize>k << 4;
  if (2 * k + 2 <= r) return sq(v128.load(t + o), m);
  const zero = f64x2.splat(0.0);
  if (2 * k + 1 == r) {
    const d = load<f64>(t + o) - f64x2.extract_lane(m, 0); // never a 16-byte load past the tail's end
    return f64x2.replace_lane(zero, 0, d * d);
  }
  return zero;
}

/** q_j = p_j + p_{j+8}; r_j = q_j + q_{j+4}; s_j = r_j + r_{j+2}; s_0 + s_1 (pairs as above). */
// @ts-ignore: decorator
@inline function foldSum(p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128): f64 {
  const s = f64x2.add(f64x2.add(f64x2.add(p0, p4), f64x2.add(p2, p6)), f64x2.add(f64x2.add(p1, p5), f64x2.add(p3, p7)));
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** tileProd's fold: foldSum with *. */
// @ts-ignore: decorator
@inline function foldProd(p0: v128, p1: v128, p2: v128, p3: v128, p4: v128, p5: v128, p6: v128, p7: v128): f64 {
  const s = f64x2.mul(f64x2.mul(f64x2.mul(p0, p4), f64x2.mul(p2, p6)), f64x2.mul(f64x2.mul(p1, p5), f64x2.mul(p3, p7)));
  return f64x2.extract_lane(s, 0) * f64x2.extract_lane(s, 1);
}

/** tileSum (prod false) or tileProd of a[0..len); inlined with a constant `prod`, one branch-free loop each. */
// @ts-ignore: decorator
@inline function tileFold(a: usize, len: i32, prod: bool): f64 {
  const id = prod ? 1.0 : 0.0;
  const n16 = len & ~15;
  let p0 = f64x2.splat(id), p1 = p0, p2 = p0, p3 = p0, p4 = p0, p5 = p0, p6 = p0, p7 = p0;
  for (let i = 0; i < n16; i += 16) {
    const at = a + (<usize>i << 3);
    p0 = op(p0, v128.load(at, 0), prod); p1 = op(p1, v128.load(at, 16), prod);
    p2 = op(p2, v128.load(at, 32), prod); p3 = op(p3, v128.load(at, 48), prod);
    p4 = op(p4, v128.load(at, 64), prod); p5 = op(p5, v128.load(at, 80), prod);
    p6 = op(p6, v128.load(at, 96), prod); p7 = op(p7, v128.load(at, 112), prod);
  }
  const r = len - n16;
  if (r > 0) {
    const t = a + (<usize>n16 << 3);
    p0 = op(p0, tailPair(t, 0, r, id), prod); p1 = op(p1, tailPair(t, 1, r, id), prod);
    p2 = op(p2, tailPair(t, 2, r, id), prod); p3 = op(p3, tailPair(t, 3, r, id), prod);
    p4 = op(p4, tailPair(t, 4, r, id), prod); p5 = op(p5, tailPair(t, 5, r, id), prod);
    p6 = op(p6, tailPair(t, 6, r, id), prod); p7 = op(p7, tailPair(t, 7, r, id), prod);
  }
  return prod ? foldProd(p0, p1, p2, p3, p4, p5, p6, p7) : foldSum(p0, p1, p2, p3, p4, p5, p6, p7);
}

// @ts-ignore: decorator
@inline function op(x: v128, y: v128, prod: bool): v128 {
  return prod ? f64x2.mul(x, y) : f64x2.add(x, y);
}

/** tileSum of a[0..len). */
export function tileSum(a: usize, len: i32): f64 {
  return tileFold(a, len, false);
}

/** tileProd of a[0..len): as tileSum with * and 1. */
export function tileProd(a: usize, len: i32): f64 {
  return tileFold(a, len, true);
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
  // M2b = tileSum((a - mb)^2), with the same 16-lane association
  const m = f64x2.splat(mb);
  const n16 = len & ~15;
  let p0 = f64x2.splat(0.0), p1 = p0, p2 = p0, p3 = p0, p4 = p0, p5 = p0, p6 = p0, p7 = p0;
  for (let i = 0; i < n16; i += 16) {
    const at = a + (<usize>i << 3);
    p0 = f64x2.add(p0, sq(v128.load(at, 0), m)); p1 = f64x2.add(p1, sq(v128.load(at, 16), m));
    p2 = f64x2.add(p2, sq(v128.load(at, 32), m)); p3 = f64x2.add(p3, sq(v128.load(at, 48), m));
    p4 = f64x2.add(p4, sq(v128.load(at, 64), m)); p5 = f64x2.add(p5, sq(v128.load(at, 80), m));
    p6 = f64x2.add(p6, sq(v128.load(at, 96), m)); p7 = f64x2.add(p7, sq(v128.load(at, 112), m));
  }
  const t = a + (<usize>n16 << 3), r = len - n16;
  p0 = f64x2.add(p0, sqTail(t, 0, r, m)); p1 = f64x2.add(p1, sqTail(t, 1, r, m));
  p2 = f64x2.add(p2, sqTail(t, 2, r, m)); p3 = f64x2.add(p3, sqTail(t, 3, r, m));
  p4 = f64x2.add(p4, sqTail(t, 4, r, m)); p5 = f64x2.add(p5, sqTail(t, 5, r, m));
  p6 = f64x2.add(p6, sqTail(t, 6, r, m)); p7 = f64x2.add(p7, sqTail(t, 7, r, m));
  const M2b = foldSum(p0, p1, p2, p3, p4, p5, p6, p7);
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
