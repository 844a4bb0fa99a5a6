// RANDOM: counter-based xoshiro256+ lanes (exact definition in abi.ts). Each RNG_BLOCK of 256 consecutive
// global indices has 4 lanes seeded from splitmix64-style mixes of (seed, block); element f uses lane f % 4.
// The 4 lanes run as two i64x2 vectors: A = lanes (0, 1), B = lanes (2, 3), so one step of both gives
// the 4 values of a *group* of 4 consecutive elements. Lane state persists between tiles in a record in
// the program's scratch area, so a row split into tiles does not reseed or skip.
//
// Record layout (RNG_REC_BYTES, in the program's SCRATCH):
//   +0 u32 valid   +8 u64 block of the state   +16 u64 first element of the next group the state yields
//   +32 v128 A0 A1 A2 A3 B0 B1 B2 B3 (xoshiro words s0..s3 of each lane pair)
//   +160 f64[4] u1   +192 f64[4] u2   +224 f64[4] one group's values   +256 a saved copy of the state
//   +384 f64[16] lane sums (by f % 16) of a fused RANDOM -> RSUM tile
//   +160 2 x v128 loop constants of that sum (over u1 and u2: a fused run is uniform, which never uses them)

const R_VALID = 0;
const R_BLOCK = 8;
const R_NEXT = 16;
const R_STATE = 32;
const R_U1 = 160;
const R_U2 = 192;
const R_OUT = 224;
const R_SAVE = 256;
const R_LACC = 384; // f64[16]: randomSum's lane sums (by f % 16) of the current tile
const R_K = 160; // 2 x v128: sumQuads' loop constants (shares R_U1 / R_U2, used by normal values only)

const GOLDEN: u64 = 0x9E3779B97F4A7C15;
const SEED_XOR: u64 = 0x5851F42D4C957F2D;
const EXP_ONE: u64 = 0x3FF0000000000000;

// @ts-ignore: decorator
@inline export function mix(z: u64): u64 {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9;
  z ^= z >> 27;
  z *= 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

/** toUnit on two lanes: bits (u >> 12) | exponent of 1.0, minus 1.0. */
// @ts-ignore: decorator
@inline function toUnit(u: v128): v128 {
  return f64x2.sub(v128.or(i64x2.shr_u(u, 12), i64x2.splat(EXP_ONE)), f64x2.splat(1.0));
}

/** Invalidates a record (at the start of every run). */
export function rngReset(rec: usize): void {
  store<u32>(rec, 0, R_VALID);
}

/**
 * Seeds the state of block b: word j = mix(K + (16 b + j + 1) G); lane l = words 4l .. 4l+3. Pair A holds
 * lanes 0, 1 at +0..+63, pair B lanes 2, 3 at +64..+127; lane parity picks the i64 half. Written out with
 * constant offsets: this runs once per 256 elements and was a fifth of the fused generate-and-sum's time
 * as a loop with computed addresses.
 */
function seedBlock(rec: usize, K: u64, b: u64): void {
  const st = rec + R_STATE;
  const z = K + (b * 16 + 1) * GOLDEN; // word j's input is z + j G (mod 2^64)
  store<u64>(st, mix(z), 0); store<u64>(st, mix(z + 4 * GOLDEN), 8); // s0 of lanes 0, 1
  store<u64>(st, mix(z + GOLDEN), 16); store<u64>(st, mix(z + 5 * GOLDEN), 24);
  store<u64>(st, mix(z + 2 * GOLDEN), 32); store<u64>(st, mix(z + 6 * GOLDEN), 40);
  store<u64>(st, mix(z + 3 * GOLDEN), 48); store<u64>(st, mix(z + 7 * GOLDEN), 56);
  store<u64>(st, mix(z + 8 * GOLDEN), 64); store<u64>(st, mix(z + 12 * GOLDEN), 72); // s0 of lanes 2, 3
  store<u64>(st, mix(z + 9 * GOLDEN), 80); store<u64>(st, mix(z + 13 * GOLDEN), 88);
  store<u64>(st, mix(z + 10 * GOLDEN), 96); store<u64>(st, mix(z + 14 * GOLDEN), 104);
  store<u64>(st, mix(z + 11 * GOLDEN), 112); store<u64>(st, mix(z + 15 * GOLDEN), 120);
  store<u64>(rec, b, R_BLOCK);
}

/** Advances both lane pairs by `steps` xoshiro256+ steps. */
function advance(rec: usize, steps: i32): void {
  const st = rec + R_STATE;
  let a0 = v128.load(st, 0), a1 = v128.load(st, 16), a2 = v128.load(st, 32), a3 = v128.load(st, 48);
  let b0 = v128.load(st, 64), b1 = v128.load(st, 80), b2 = v128.load(st, 96), b3 = v128.load(st, 112);
  for (let k = 0; k < steps; k++) {
    let t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
  }
  v128.store(st, a0, 0); v128.store(st, a1, 16); v128.store(st, a2, 32); v128.store(st, a3, 48);
  v128.store(st, b0, 64); v128.store(st, b1, 80); v128.store(st, b2, 96); v128.store(st, b3, 112);
}

/** The 4 uniform values of n consecutive groups, written to dst (32 bytes per group); commits the state. */
function uniformGroups(rec: usize, dst: usize, n: i32): void {
  const st = rec + R_STATE;
  let a0 = v128.load(st, 0), a1 = v128.load(st, 16), a2 = v128.load(st, 32), a3 = v128.load(st, 48);
  let b0 = v128.load(st, 64), b1 = v128.load(st, 80), b2 = v128.load(st, 96), b3 = v128.load(st, 112);
  const end = dst + (<usize>n << 5);
  for (let p = dst; p < end; p += 32) {
    v128.store(p, toUnit(i64x2.add(a0, a3)));
    v128.store(p, toUnit(i64x2.add(b0, b3)), 16);
    let t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
  }
  v128.store(st, a0, 0); v128.store(st, a1, 16); v128.store(st, a2, 32); v128.store(st, a3, 48);
  v128.store(st, b0, 64); v128.store(st, b1, 80); v128.store(st, b2, 96); v128.store(st, b3, 112);
}

/** Current outputs of lanes (0..3) as toUnit values into out[0..3], without advancing. */
function unitsNow(rec: usize, out: usize): void {
  const st = rec + R_STATE;
  v128.store(out, toUnit(i64x2.add(v128.load(st, 0), v128.load(st, 48))));
  v128.store(out, toUnit(i64x2.add(v128.load(st, 64), v128.load(st, 112))), 16);
}

/** The 4 values of the current group into out[0..3]; commits (advances) the state when `commit`. */
function groupValues(rec: usize, kind: i32, out: usize, commit: bool): void {
  if (kind == 0) {
    unitsNow(rec, out);
    if (commit) advance(rec, 1);
    return;
  }
  // normal: u1 from this step, u2 from the next
  unitsNow(rec, rec + R_U1);
  const st = rec + R_STATE;
  if (!commit) memory.copy(rec + R_SAVE, st, 128); // keep the state: restore it afterwards
  advance(rec, 1);
  unitsNow(rec, rec + R_U2);
  if (commit) advance(rec, 1);
  else memory.copy(st, rec + R_SAVE, 128);
  for (let l: usize = 0; l < 4; l++) {
    const u1 = load<f64>(rec + R_U1 + (l << 3));
    const u2 = load<f64>(rec + R_U2 + (l << 3));
    store<f64>(out + (l << 3), Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2));
  }
}

// ---- fused RANDOM -> [ADD or SUB of a constant] -> scalar RSUM (see the interpreter's findFusion)
// x is the f64 with bits (u >> 12) | exponent of 1.0, in [1, 2); toUnit(u) = x - 1 exactly and x = toUnit(u) + 1
// exactly. The fused value of an element is x + c, which is exactly what the separate instructions compute:
// (x - 1) + k is one rounding of the real x - 1 + k, and so is x + c when c = k - 1 exactly; likewise
// (x - 1) - k with c = -(1 + k) exact, and the bare toUnit value x - 1 with c = -1.

/** x of one lane pair: the f64 with bits ((s0 + s3) >> 12) | exponent of 1.0, in [1, 2). */
// @ts-ignore: decorator
@inline function unitX(s0: v128, s3: v128, e: v128): v128 {
  return v128.or(i64x2.shr_u(i64x2.add(s0, s3), 12), e);
}

/**
 * Lane sums of 4 * n4 consecutive full groups from a global index that is a multiple of 16: lane sum
 * f % 16 += x + c for each element f, in order; commits the state. Four groups (16 elements) per
 * iteration, each into its own pair of accumulators, so the 16 lane sums are 8 independent add chains;
 * both lane pairs step together (one pair alone is latency-bound). withC false (c == 0, also for -0):
 * x + 0 == x, so the add is skipped. Inlined with a constant withC: each caller gets one branch-free loop.
 * The group step is written out four times on purpose: AssemblyScript has no macros, an inline function
 * cannot update its caller's locals, and a one-group loop would have to rotate the 8 accumulators.
 */
// @ts-ignore: decorator
@inline function sumQuads(rec: usize, n4: i32, withC: bool): void {
  const st = rec + R_STATE;
  const acc = rec + R_LACC;
  let a0 = v128.load(st, 0), a1 = v128.load(st, 16), a2 = v128.load(st, 32), a3 = v128.load(st, 48);
  let b0 = v128.load(st, 64), b1 = v128.load(st, 80), b2 = v128.load(st, 96), b3 = v128.load(st, 112);
  let pA0 = v128.load(acc, 0), pB0 = v128.load(acc, 16), pA1 = v128.load(acc, 32), pB1 = v128.load(acc, 48);
  let pA2 = v128.load(acc, 64), pB2 = v128.load(acc, 80), pA3 = v128.load(acc, 96), pB3 = v128.load(acc, 112);
  // loop constants come from memory, so the compiler keeps them in registers instead of rematerializing
  // them (with two shifts) in every iteration
  const e = v128.load(rec + R_K);
  const c = v128.load(rec + R_K, 16);
  for (let k = 0; k < n4; k++) {
    let xA = unitX(a0, a3, e), xB = unitX(b0, b3, e);
    if (withC) { xA = f64x2.add(xA, c); xB = f64x2.add(xB, c); }
    pA0 = f64x2.add(pA0, xA); pB0 = f64x2.add(pB0, xB);
    let t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
    xA = unitX(a0, a3, e); xB = unitX(b0, b3, e);
    if (withC) { xA = f64x2.add(xA, c); xB = f64x2.add(xB, c); }
    pA1 = f64x2.add(pA1, xA); pB1 = f64x2.add(pB1, xB);
    t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
    xA = unitX(a0, a3, e); xB = unitX(b0, b3, e);
    if (withC) { xA = f64x2.add(xA, c); xB = f64x2.add(xB, c); }
    pA2 = f64x2.add(pA2, xA); pB2 = f64x2.add(pB2, xB);
    t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
    xA = unitX(a0, a3, e); xB = unitX(b0, b3, e);
    if (withC) { xA = f64x2.add(xA, c); xB = f64x2.add(xB, c); }
    pA3 = f64x2.add(pA3, xA); pB3 = f64x2.add(pB3, xB);
    t = i64x2.shl(a1, 17);
    a2 = v128.xor(a2, a0); a3 = v128.xor(a3, a1); a1 = v128.xor(a1, a2); a0 = v128.xor(a0, a3); a2 = v128.xor(a2, t);
    a3 = v128.or(i64x2.shl(a3, 45), i64x2.shr_u(a3, 19));
    t = i64x2.shl(b1, 17);
    b2 = v128.xor(b2, b0); b3 = v128.xor(b3, b1); b1 = v128.xor(b1, b2); b0 = v128.xor(b0, b3); b2 = v128.xor(b2, t);
    b3 = v128.or(i64x2.shl(b3, 45), i64x2.shr_u(b3, 19));
  }
  v128.store(st, a0, 0); v128.store(st, a1, 16); v128.store(st, a2, 32); v128.store(st, a3, 48);
  v128.store(st, b0, 64); v128.store(st, b1, 80); v128.store(st, b2, 96); v128.store(st, b3, 112);
  v128.store(acc, pA0, 0); v128.store(acc, pB0, 16); v128.store(acc, pA1, 32); v128.store(acc, pB1, 48);
  v128.store(acc, pA2, 64); v128.store(acc, pB2, 80); v128.store(acc, pA3, 96); v128.store(acc, pB3, 112);
}

function sumQuadsX(rec: usize, n4: i32): void {
  sumQuads(rec, n4, false);
}

function sumQuadsXC(rec: usize, n4: i32): void {
  sumQuads(rec, n4, true);
}

/** One full group at global index g: lane sum (g + l) % 16 += x + c for its 4 elements; commits the state. */
function sumGroup(rec: usize, g: u64, cs: f64): void {
  unitsNow(rec, rec + R_OUT);
  advance(rec, 1);
  const acc = rec + R_LACC + (<usize>(g & 15) << 3);
  for (let l: usize = 0; l < 4; l++) {
    const at = acc + (l << 3);
    store<f64>(at, load<f64>(at) + ((load<f64>(rec + R_OUT + (l << 3)) + 1.0) + cs));
  }
}

/**
 * Lane sums of n consecutive full groups from global index g (a multiple of 4), in order: single groups up
 * to the next multiple of 16, then whole quads of groups, then the last single groups; commits the state.
 */
function sumGroups(rec: usize, g: u64, n: i32, cs: f64): void {
  while (n > 0 && (g & 15) != 0) {
    sumGroup(rec, g, cs);
    g += 4;
    n--;
  }
  const n4 = n >> 2;
  if (n4 > 0) {
    v128.store(rec + R_K, i64x2.splat(EXP_ONE));
    v128.store(rec + R_K, f64x2.splat(cs), 16);
    if (cs == 0) sumQuadsX(rec, n4); // also for c = -0: x + -0 == x
    else sumQuadsXC(rec, n4);
    g += <u64>n4 << 4;
  }
  for (let i = n4 << 2; i < n; i++) {
    sumGroup(rec, g, cs);
    g += 4;
  }
}

/**
 * Fused uniform RANDOM -> tileSum: returns tileSum over c in [0, len) of (x + cs) for the uniform value
 * x - 1 of global index f0 + c, with exactly tileSum's association (p[c % 16], folded by halves).
 * Element f feeds lane sum f % 16, and that lane sum's elements are exactly partial (f - f0) % 16's, in the
 * same order.
 */
export function randomSum(f0: u64, len: i32, seed: u64, rec: usize, cs: f64): f64 {
  if (len <= 0) return 0.0;
  const acc = rec + R_LACC;
  for (let j: usize = 0; j < 128; j += 16) v128.store(acc + j, f64x2.splat(0.0));
  walk(0, f0, len, seed, 0, rec, true, cs);
  // partial j is lane sum (j + f0) % 16; fold by halves as abi.ts's tileSum
  const m = <usize>(f0 & 15);
  const q0 = lane(acc, m, 0) + lane(acc, m, 8), q1 = lane(acc, m, 1) + lane(acc, m, 9);
  const q2 = lane(acc, m, 2) + lane(acc, m, 10), q3 = lane(acc, m, 3) + lane(acc, m, 11);
  const q4 = lane(acc, m, 4) + lane(acc, m, 12), q5 = lane(acc, m, 5) + lane(acc, m, 13);
  const q6 = lane(acc, m, 6) + lane(acc, m, 14), q7 = lane(acc, m, 7) + lane(acc, m, 15);
  const r0 = q0 + q4, r1 = q1 + q5, r2 = q2 + q6, r3 = q3 + q7;
  return (r0 + r2) + (r1 + r3);
}

/** Partial j of randomSum: the lane sum (j + m) % 16. */
// @ts-ignore: decorator
@inline function lane(acc: usize, m: usize, j: usize): f64 {
  return load<f64>(acc + (((j + m) & 15) << 3));
}

/**
 * dst[c] = random value of global index f0 + c, for c in [0, len); kind 0 uniform, 1 normal.
 * rec is this RANDOM instruction's state record.
 */
export function random(dst: usize, f0: u64, len: i32, seed: u64, kind: i32, rec: usize): void {
  if (len <= 0) return;
  walk(dst, f0, len, seed, kind, rec, false, 0.0);
}

/**
 * The group walk shared by random (values to dst) and randomSum (sum: values x + cs added to the lane sums
 * at rec + R_LACC).
 */
// @ts-ignore: decorator
@inline function walk(dst: usize, f0: u64, len: i32, seed: u64, kind: i32, rec: usize, sum: bool, cs: f64): void {
  const K = mix(seed ^ SEED_XOR);
  const end = f0 + <u64>len;
  const spg = kind == 0 ? 1 : 2; // xoshiro steps per group
  let g = f0 & ~(<u64>3); // first element of the group holding f0
  let blk = g >> 8;
  if (load<u32>(rec, R_VALID) == 1 && load<u64>(rec, R_BLOCK) == blk && load<u64>(rec, R_NEXT) <= g) {
    advance(rec, <i32>((g - load<u64>(rec, R_NEXT)) >> 2) * spg);
  } else {
    seedBlock(rec, K, blk);
    advance(rec, <i32>((g & 255) >> 2) * spg); // a run starting mid-block discards the block's prefix
  }
  const tmp = rec + R_OUT;
  while (true) {
    const blockEnd = (blk + 1) << 8;
    const segEnd = end < blockEnd ? end : blockEnd;
    while (g < segEnd) {
      if (g >= f0 && g + 4 <= segEnd) {
        const n = <i32>((segEnd - g) >> 2);
        if (sum) sumGroups(rec, g, n, cs);
        else {
          const at = dst + (<usize>(g - f0) << 3);
          if (kind == 0) uniformGroups(rec, at, n);
          else for (let i = 0; i < n; i++) groupValues(rec, 1, at + (<usize>i << 5), true);
        }
        g += <u64>n << 2;
        continue;
      }
      // a group cut by the start of the run or by its end
      const full = g + 4 <= segEnd;
      groupValues(rec, kind, tmp, full);
      const lo = g > f0 ? g : f0;
      const hi = g + 4 < segEnd ? g + 4 : segEnd;
      for (let e = lo; e < hi; e++) {
        const v = load<f64>(tmp + (<usize>(e - g) << 3));
        if (sum) {
          const at = rec + R_LACC + (<usize>(e & 15) << 3);
          store<f64>(at, load<f64>(at) + ((v + 1.0) + cs));
        } else store<f64>(dst + (<usize>(e - f0) << 3), v);
      }
      if (!full) break;
      g += 4;
    }
    if (g != blockEnd || g >= end) break;
    blk++;
    seedBlock(rec, K, blk);
  }
  store<u32>(rec, 1, R_VALID);
  store<u64>(rec, g, R_NEXT);
}
