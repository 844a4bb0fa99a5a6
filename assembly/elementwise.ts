// Elementwise register ops: f64x2 loops over whole groups of 4 (registers hold TILE f64, TILE a multiple
// of 4, so a register op may run past len inside the register); transcendentals use scalar Math on [0, len).
import {
  OP_ABS, OP_ADD, OP_BOOL, OP_CEIL, OP_COS, OP_DIV, OP_EQ, OP_EXP, OP_FLOOR, OP_GE, OP_GT, OP_IMUL, OP_ISNAN,
  OP_LE, OP_LOG, OP_LT, OP_MAX, OP_MIN, OP_MUL, OP_NE, OP_NEG, OP_NOT, OP_POW, OP_ROUND_F32, OP_SIN, OP_SQRT,
  OP_SUB, OP_TANH, OP_TRUNC_I32, OP_WRAP_I32, OP_TAN, OP_ASIN, OP_ACOS, OP_ATAN, OP_SINH, OP_COSH, OP_ASINH, OP_ACOSH,
  OP_ATANH, OP_LOG1P, OP_EXPM1, OP_LOG2, OP_LOG10, OP_EXP2, OP_SIGN, OP_ISINF, OP_ISFINITE, OP_RINT, OP_ATAN2, OP_HYPOT,
  OP_MOD, OP_FLOORDIV, OP_FMAX, OP_FMIN, OP_IMOD, OP_IFLOORDIV,
} from "./abi";

/** JS ToInt32 (x | 0) of any f64: truncate toward zero, wrap mod 2^32; NaN and infinities give 0. */
export function toInt32(x: f64): i32 {
  if (Math.abs(x) < 9.2233720368547758e18) return <i32><i64>x; // |x| < 2^63: exact i64, wrap
  if (!isFinite(x)) return 0;
  // |x| >= 2^63 is an integer multiple of 2^11: reduce mod 2^32 exactly
  const r = x - 4294967296.0 * Math.floor(x / 4294967296.0);
  return <i32><u32>r;
}

/** Fill 4*ceil(len/4) elements of dst with v. */
export function fill(dst: usize, v: f64, len: i32): void {
  const s = f64x2.splat(v);
  const end = dst + (<usize>((len + 3) & ~3) << 3);
  for (let p = dst; p < end; p += 32) {
    v128.store(p, s);
    v128.store(p, s, 16);
  }
}

/** Writes v into the 4 f64 at `at` (a constant operand read with stride 0). */
export function splat4(at: usize, v: f64): void {
  const s = f64x2.splat(v);
  v128.store(at, s);
  v128.store(at, s, 16);
}

// @ts-ignore: decorator
@inline function unv(op: i32, x: v128): v128 {
  const one = f64x2.splat(1.0);
  const zero = f64x2.splat(0.0);
  if (op == OP_NEG) return f64x2.neg(x);
  if (op == OP_ABS) return f64x2.abs(x);
  if (op == OP_SQRT) return f64x2.sqrt(x);
  if (op == OP_FLOOR) return f64x2.floor(x);
  if (op == OP_CEIL) return f64x2.ceil(x);
  if (op == OP_ROUND_F32) return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(x));
  if (op == OP_TRUNC_I32) return f64x2.convert_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(x));
  if (op == OP_NOT) return v128.and(f64x2.eq(x, zero), one);
  if (op == OP_BOOL) return v128.and(f64x2.ne(x, zero), one);
  if (op == OP_RINT) return f64x2.nearest(x);
  if (op == OP_ISINF) return v128.and(f64x2.eq(f64x2.abs(x), f64x2.splat(Infinity)), one);
  if (op == OP_ISFINITE) return v128.and(f64x2.eq(f64x2.sub(x, x), zero), one);
  /* OP_ISNAN */ return v128.and(f64x2.ne(x, x), one);
}

// @ts-ignore: decorator
@inline function unLoop(op: i32, dst: usize, a: usize, len: i32): void {
  const n = <usize>((len + 3) & ~3) << 3;
  for (let i: usize = 0; i < n; i += 32) {
    const x0 = v128.load(a + i);
    const x1 = v128.load(a + i, 16);
    v128.store(dst + i, unv(op, x0));
    v128.store(dst + i, unv(op, x1), 16);
  }
}

// @ts-ignore: decorator
@inline function uns(op: i32, x: f64): f64 {
  if (op == OP_EXP) return Math.exp(x);
  if (op == OP_LOG) return Math.log(x);
  if (op == OP_SIN) return Math.sin(x);
  if (op == OP_COS) return Math.cos(x);
  if (op == OP_TANH) return Math.tanh(x);
  if (op == OP_TAN) return Math.tan(x);
  if (op == OP_ASIN) return Math.asin(x);
  if (op == OP_ACOS) return Math.acos(x);
  if (op == OP_ATAN) return Math.atan(x);
  if (op == OP_SINH) return Math.sinh(x);
  if (op == OP_COSH) return Math.cosh(x);
  if (op == OP_ASINH) return Math.asinh(x);
  if (op == OP_ACOSH) return Math.acosh(x);
  if (op == OP_ATANH) return Math.atanh(x);
  if (op == OP_LOG1P) return Math.log1p(x);
  if (op == OP_EXPM1) return Math.expm1(x);
  if (op == OP_LOG2) return Math.log2(x);
  if (op == OP_LOG10) return Math.log10(x);
  if (op == OP_EXP2) return Math.pow(2.0, x);
  if (op == OP_SIGN) return x > 0 ? 1.0 : x < 0 ? -1.0 : x == 0 ? 0.0 : x; // NaN stays NaN, -0 gives +0 (numpy)
  /* OP_WRAP_I32 */ return <f64>toInt32(x);
}

// @ts-ignore: decorator
@inline function unScalar(op: i32, dst: usize, a: usize, len: i32): void {
  const n = <usize>len << 3;
  for (let i: usize = 0; i < n; i += 8) store<f64>(dst + i, uns(op, load<f64>(a + i)));
}

/** dst = f(a) for a unary opcode. */
export function unary(op: i32, dst: usize, a: usize, len: i32): void {
  switch (op) {
    case OP_NEG: unLoop(OP_NEG, dst, a, len); break;
    case OP_ABS: unLoop(OP_ABS, dst, a, len); break;
    case OP_SQRT: unLoop(OP_SQRT, dst, a, len); break;
    case OP_FLOOR: unLoop(OP_FLOOR, dst, a, len); break;
    case OP_CEIL: unLoop(OP_CEIL, dst, a, len); break;
    case OP_ROUND_F32: unLoop(OP_ROUND_F32, dst, a, len); break;
    case OP_TRUNC_I32: unLoop(OP_TRUNC_I32, dst, a, len); break;
    case OP_NOT: unLoop(OP_NOT, dst, a, len); break;
    case OP_BOOL: unLoop(OP_BOOL, dst, a, len); break;
    case OP_ISNAN: unLoop(OP_ISNAN, dst, a, len); break;
    case OP_RINT: unLoop(OP_RINT, dst, a, len); break;
    case OP_ISINF: unLoop(OP_ISINF, dst, a, len); break;
    case OP_ISFINITE: unLoop(OP_ISFINITE, dst, a, len); break;
    case OP_TAN: unScalar(OP_TAN, dst, a, len); break;
    case OP_ASIN: unScalar(OP_ASIN, dst, a, len); break;
    case OP_ACOS: unScalar(OP_ACOS, dst, a, len); break;
    case OP_ATAN: unScalar(OP_ATAN, dst, a, len); break;
    case OP_SINH: unScalar(OP_SINH, dst, a, len); break;
    case OP_COSH: unScalar(OP_COSH, dst, a, len); break;
    case OP_ASINH: unScalar(OP_ASINH, dst, a, len); break;
    case OP_ACOSH: unScalar(OP_ACOSH, dst, a, len); break;
    case OP_ATANH: unScalar(OP_ATANH, dst, a, len); break;
    case OP_LOG1P: unScalar(OP_LOG1P, dst, a, len); break;
    case OP_EXPM1: unScalar(OP_EXPM1, dst, a, len); break;
    case OP_LOG2: unScalar(OP_LOG2, dst, a, len); break;
    case OP_LOG10: unScalar(OP_LOG10, dst, a, len); break;
    case OP_EXP2: unScalar(OP_EXP2, dst, a, len); break;
    case OP_SIGN: unScalar(OP_SIGN, dst, a, len); break;
    case OP_EXP: unScalar(OP_EXP, dst, a, len); break;
    case OP_LOG: unScalar(OP_LOG, dst, a, len); break;
    case OP_SIN: unScalar(OP_SIN, dst, a, len); break;
    case OP_COS: unScalar(OP_COS, dst, a, len); break;
    case OP_TANH: unScalar(OP_TANH, dst, a, len); break;
    default: unScalar(OP_WRAP_I32, dst, a, len); break;
  }
}

// @ts-ignore: decorator
@inline function binv(op: i32, a: v128, b: v128): v128 {
  const one = f64x2.splat(1.0);
  if (op == OP_ADD) return f64x2.add(a, b);
  if (op == OP_SUB) return f64x2.sub(a, b);
  if (op == OP_MUL) return f64x2.mul(a, b);
  if (op == OP_DIV) return f64x2.div(a, b);
  if (op == OP_MAX) return f64x2.max(a, b);
  if (op == OP_MIN) return f64x2.min(a, b);
  if (op == OP_EQ) return v128.and(f64x2.eq(a, b), one);
  if (op == OP_NE) return v128.and(f64x2.ne(a, b), one);
  if (op == OP_LT) return v128.and(f64x2.lt(a, b), one);
  if (op == OP_LE) return v128.and(f64x2.le(a, b), one);
  if (op == OP_GT) return v128.and(f64x2.gt(a, b), one);
  /* OP_GE */ return v128.and(f64x2.ge(a, b), one);
}

/**
 * Operands are (pointer, stride per 4 elements): stride 32 walks a register, stride 0 re-reads a constant
 * splatted into 32 bytes of scratch.
 */
// @ts-ignore: decorator
@inline function binLoop(op: i32, dst: usize, pa: usize, sa: usize, pb: usize, sb: usize, len: i32): void {
  const end = dst + (<usize>((len + 3) & ~3) << 3);
  for (let p = dst; p < end; p += 32) {
    const a0 = v128.load(pa);
    const a1 = v128.load(pa, 16);
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    v128.store(p, binv(op, a0, b0));
    v128.store(p, binv(op, a1, b1), 16);
    pa += sa;
    pb += sb;
  }
}

/** C's pow (abi.ts POW): AssemblyScript's Math.pow follows JS, NaN for 1 ** NaN and (±1) ** ±Inf; C gives 1. */
// @ts-ignore: decorator
@inline function cPow(a: f64, b: f64): f64 {
  return a == 1.0 || (a == -1.0 && Math.abs(b) == Infinity) ? 1.0 : Math.pow(a, b);
}

/** numpy's npy_divmod: the remainder has the divisor's sign; floor division rounds to the nearest integer below. */
// @ts-ignore: decorator
@inline function divmod(a: f64, b: f64, wantDiv: bool): f64 {
  let mod = a % b;
  if (b == 0) return wantDiv ? a / b : mod;
  let div = (a - mod) / b;
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= 1.0;
    }
  } else mod = copysign<f64>(0.0, b);
  if (!wantDiv) return mod;
  if (div == 0) return copysign<f64>(0.0, a / b);
  let fd = Math.floor(div);
  if (div - fd > 0.5) fd += 1.0;
  return fd;
}

/** Exact int32 floor division and remainder (numpy's: x // 0 and x % 0 are 0, MIN // -1 wraps). */
// @ts-ignore: decorator
@inline function idivmod(a: f64, b: f64, wantDiv: bool): f64 {
  const x = toInt32(a), y = toInt32(b); // ToInt32, as IMUL (the emitter gives int32 values)
  if (y == 0) return 0.0;
  if (wantDiv) {
    if (x == i32.MIN_VALUE && y == -1) return <f64>i32.MIN_VALUE;
    let q = x / y;
    if (x % y != 0 && (x < 0) != (y < 0)) q -= 1;
    return <f64>q;
  }
  if (y == -1) return 0.0;
  let r = x % y;
  if (r != 0 && (r < 0) != (y < 0)) r += y;
  return <f64>r;
}

// @ts-ignore: decorator
@inline function bins(op: i32, a: f64, b: f64): f64 {
  if (op == OP_POW) return cPow(a, b);
  if (op == OP_ATAN2) return Math.atan2(a, b);
  if (op == OP_HYPOT) return Math.hypot(a, b);
  if (op == OP_MOD) return divmod(a, b, false);
  if (op == OP_FLOORDIV) return divmod(a, b, true);
  if (op == OP_FMAX) return a != a ? b : b != b ? a : a > b ? a : b;
  if (op == OP_FMIN) return a != a ? b : b != b ? a : a < b ? a : b;
  if (op == OP_IMOD) return idivmod(a, b, false);
  if (op == OP_IFLOORDIV) return idivmod(a, b, true);
  /* OP_IMUL */ return <f64>(toInt32(a) * toInt32(b));
}

// @ts-ignore: decorator
@inline function binScalar(op: i32, dst: usize, pa: usize, sa: usize, pb: usize, sb: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    store<f64>(dst + (<usize>i << 3), bins(op, load<f64>(pa + (<usize>(i & 3) << 3)), load<f64>(pb + (<usize>(i & 3) << 3))));
    if ((i & 3) == 3) { pa += sa; pb += sb; }
  }
}

/** dst = a op b. */
export function binary(op: i32, dst: usize, pa: usize, sa: usize, pb: usize, sb: usize, len: i32): void {
  switch (op) {
    case OP_ADD: binLoop(OP_ADD, dst, pa, sa, pb, sb, len); break;
    case OP_SUB: binLoop(OP_SUB, dst, pa, sa, pb, sb, len); break;
    case OP_MUL: binLoop(OP_MUL, dst, pa, sa, pb, sb, len); break;
    case OP_DIV: binLoop(OP_DIV, dst, pa, sa, pb, sb, len); break;
    case OP_MAX: binLoop(OP_MAX, dst, pa, sa, pb, sb, len); break;
    case OP_MIN: binLoop(OP_MIN, dst, pa, sa, pb, sb, len); break;
    case OP_EQ: binLoop(OP_EQ, dst, pa, sa, pb, sb, len); break;
    case OP_NE: binLoop(OP_NE, dst, pa, sa, pb, sb, len); break;
    case OP_LT: binLoop(OP_LT, dst, pa, sa, pb, sb, len); break;
    case OP_LE: binLoop(OP_LE, dst, pa, sa, pb, sb, len); break;
    case OP_GT: binLoop(OP_GT, dst, pa, sa, pb, sb, len); break;
    case OP_GE: binLoop(OP_GE, dst, pa, sa, pb, sb, len); break;
    case OP_POW: binScalar(OP_POW, dst, pa, sa, pb, sb, len); break;
    case OP_ATAN2: binScalar(OP_ATAN2, dst, pa, sa, pb, sb, len); break;
    case OP_HYPOT: binScalar(OP_HYPOT, dst, pa, sa, pb, sb, len); break;
    case OP_MOD: binScalar(OP_MOD, dst, pa, sa, pb, sb, len); break;
    case OP_FLOORDIV: binScalar(OP_FLOORDIV, dst, pa, sa, pb, sb, len); break;
    case OP_FMAX: binScalar(OP_FMAX, dst, pa, sa, pb, sb, len); break;
    case OP_FMIN: binScalar(OP_FMIN, dst, pa, sa, pb, sb, len); break;
    case OP_IMOD: binScalar(OP_IMOD, dst, pa, sa, pb, sb, len); break;
    case OP_IFLOORDIV: binScalar(OP_IFLOORDIV, dst, pa, sa, pb, sb, len); break;
    default: binScalar(OP_IMUL, dst, pa, sa, pb, sb, len); break;
  }
}

/** dst = c != 0 ? a : b (NaN counts as true). */
export function select(dst: usize, pc: usize, pa: usize, sa: usize, pb: usize, sb: usize, len: i32): void {
  const zero = f64x2.splat(0.0);
  const end = dst + (<usize>((len + 3) & ~3) << 3);
  for (let p = dst; p < end; p += 32) {
    const m0 = f64x2.ne(v128.load(pc), zero);
    const m1 = f64x2.ne(v128.load(pc, 16), zero);
    const a0 = v128.load(pa);
    const a1 = v128.load(pa, 16);
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    v128.store(p, v128.bitselect(a0, b0, m0));
    v128.store(p, v128.bitselect(a1, b1, m1), 16);
    pa += sa;
    pb += sb;
    pc += 32;
  }
}

/** dst[c] = rowPos + (c0 + c) * last: the values of an INDEX slot along one tile. */
export function iota(dst: usize, rowPos: f64, last: f64, c0: i32, len: i32): void {
  const rp = f64x2.splat(rowPos);
  const lv = f64x2.splat(last);
  const two = f64x2.splat(2.0);
  let c = f64x2.replace_lane(f64x2.splat(<f64>c0), 1, <f64>c0 + 1.0);
  const end = dst + (<usize>((len + 3) & ~3) << 3);
  for (let p = dst; p < end; p += 16) {
    v128.store(p, f64x2.add(rp, f64x2.mul(c, lv)));
    c = f64x2.add(c, two);
  }
}
