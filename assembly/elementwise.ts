// Elementwise register ops: f64x2 loops over whole groups of 4 (registers hold TILE f64, TILE a multiple
// of 4, so a register op may run past len inside the register); transcendentals use scalar Math on [0, len).
import {
  OP_ABS, OP_ADD, OP_BOOL, OP_CEIL, OP_COS, OP_DIV, OP_EQ, OP_EXP, OP_FLOOR, OP_GE, OP_GT, OP_IMUL, OP_ISNAN,
  OP_LE, OP_LOG, OP_LT, OP_MAX, OP_MIN, OP_MUL, OP_NE, OP_NEG, OP_NOT, OP_POW, OP_ROUND_F32, OP_SIN, OP_SQRT,
  OP_SUB, OP_TANH, OP_TRUNC_I32, OP_WRAP_I32,
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
    case OP_POW: {
      for (let i = 0; i < len; i++) {
        store<f64>(dst + (<usize>i << 3), cPow(load<f64>(pa + (<usize>(i & 3) << 3)), load<f64>(pb + (<usize>(i & 3) << 3))));
        if ((i & 3) == 3) { pa += sa; pb += sb; }
      }
      break;
    }
    default: { // OP_IMUL
      for (let i = 0; i < len; i++) {
        const x = toInt32(load<f64>(pa + (<usize>(i & 3) << 3)));
        const y = toInt32(load<f64>(pb + (<usize>(i & 3) << 3)));
        store<f64>(dst + (<usize>i << 3), <f64>(x * y));
        if ((i & 3) == 3) { pa += sa; pb += sb; }
      }
      break;
    }
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
