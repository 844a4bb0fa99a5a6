/**
 * The plain-JS twin of the WebAssembly tile interpreter (assembly/): it interprets the same program bytes
 * in the same memory with the same semantics (abi.ts), one element at a time. It is the test oracle and
 * the engine's fallback (TESSERA_KERNELS=js). Bit-identical to the wasm except EXP LOG SIN COS TANH POW
 * and normal RANDOM values (different libm), and NaN payloads.
 */
import {
  DT,
  H,
  MAX_DIMS,
  MAX_RANDOM_OPS,
  MAX_REGS,
  MAX_SLOTS,
  MAX_TILE,
  OP,
  PROGRAM_MAGIC,
  RC,
  RNG_BLOCK,
  TILE_SUM_LANES,
  S,
  SLOT_INDEX,
  SLOT_MEM,
  opArity,
  isUnary,
  isBinary,
  HF,
  HIST_P,
} from "./abi.js";
import { histBin } from "./histogram.js";

const DT_BYTES_OF = [8, 4, 4, 1];
const TWO32 = 4294967296;

/** wasm i32.trunc_sat_f64_s: toward zero, saturating, NaN -> 0. */
export function truncSatI32(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x) | 0;
}

/** An f64 position to a wasm address: u64 saturating truncation, then the low 32 bits. */
function toAddress(pos: number): number {
  if (!(pos > 0)) return 0;
  return Math.trunc(pos) % TWO32;
}

// ---------------------------------------------------------------- random numbers (abi.ts: RANDOM)

const M64 = (1n << 64n) - 1n;

/** splitmix64's finalizer, u64 arithmetic. */
export function mix64(z: bigint): bigint {
  z = (z ^ (z >> 30n)) & M64;
  z = (z * 0xbf58476d1ce4e5b9n) & M64;
  z = (z ^ (z >> 27n)) & M64;
  z = (z * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

/**
 * The 4 xoshiro256+ lanes of one RNG block. A u64 is kept as two u32 halves (hi, lo) so the hot loop
 * avoids BigInt; st[8 * lane + 2 * word] is the hi half of word s_word of the lane, +1 the lo half.
 */
class Lanes {
  readonly st = new Uint32Array(32);
  /** the last output of next(): hi, lo */
  hi = 0;
  lo = 0;

  seed(K: bigint, block: number): void {
    const G = 0x9e3779b97f4a7c15n;
    const b = BigInt(block);
    for (let j = 0; j < 16; j++) {
      const w = mix64((K + (16n * b + BigInt(j) + 1n) * G) & M64);
      // word j: lane j >> 2, xoshiro word j & 3
      this.st[2 * j] = Number(w >> 32n);
      this.st[2 * j + 1] = Number(w & 0xffffffffn);
    }
  }

  /** xoshiro256+ next() of lane l; the output is left in (hi, lo). */
  next(l: number): void {
    const s = this.st;
    const o = 8 * l;
    const s0h = s[o]!, s0l = s[o + 1]!, s1h = s[o + 2]!, s1l = s[o + 3]!;
    const s2h = s[o + 4]!, s2l = s[o + 5]!, s3h = s[o + 6]!, s3l = s[o + 7]!;
    // out = s0 + s3
    const lo = s0l + s3l;
    this.lo = lo >>> 0;
    this.hi = (s0h + s3h + (lo > 0xffffffff ? 1 : 0)) >>> 0;
    // t = s1 << 17
    const th = ((s1h << 17) | (s1l >>> 15)) >>> 0;
    const tl = (s1l << 17) >>> 0;
    // s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 45)
    const n2h = (s2h ^ s0h) >>> 0, n2l = (s2l ^ s0l) >>> 0;
    const n3h = (s3h ^ s1h) >>> 0, n3l = (s3l ^ s1l) >>> 0;
    const n1h = (s1h ^ n2h) >>> 0, n1l = (s1l ^ n2l) >>> 0;
    const n0h = (s0h ^ n3h) >>> 0, n0l = (s0l ^ n3l) >>> 0;
    s[o] = n0h;
    s[o + 1] = n0l;
    s[o + 2] = n1h;
    s[o + 3] = n1l;
    s[o + 4] = (n2h ^ th) >>> 0;
    s[o + 5] = (n2l ^ tl) >>> 0;
    // rotl 45 == rotr 19
    s[o + 6] = ((n3h >>> 19) | (n3l << 13)) >>> 0;
    s[o + 7] = ((n3l >>> 19) | (n3h << 13)) >>> 0;
  }

  /** toUnit of the last output: the top 52 bits times 2^-52 (equals bits (u >> 12) | 1.0 minus 1.0). */
  unit(): number {
    return (this.hi * 1048576 + (this.lo >>> 12)) * 2.220446049250313e-16;
  }
}

/** K = mix(seed ^ 0x5851F42D4C957F2D) for a seed given as its low and high 32-bit halves. */
export function rngKey(seedLo: number, seedHi: number): bigint {
  const seed = (BigInt(seedHi >>> 0) << 32n) | BigInt(seedLo >>> 0);
  return mix64(seed ^ 0x5851f42d4c957f2dn);
}

/**
 * out[at + c] = random value of global index f0 + c for c in [0, len); kind 0 uniform [0, 1), 1 normal.
 * Generates each block from its start (clarity over speed).
 */
export function randomValues(out: Float64Array, at: number, f0: number, len: number, K: bigint, kind: number): void {
  const lanes = new Lanes();
  const end = f0 + len;
  let block = Math.floor(f0 / RNG_BLOCK);
  while (block * RNG_BLOCK < end) {
    const start = block * RNG_BLOCK;
    lanes.seed(K, block);
    for (let q = 0; q < RNG_BLOCK / 4; q++) {
      const g = start + 4 * q;
      if (g >= end) break;
      for (let l = 0; l < 4; l++) {
        const f = g + l;
        lanes.next(l);
        let v = lanes.unit();
        if (kind === 1) {
          lanes.next(l);
          const u2 = lanes.unit();
          v = Math.sqrt(-2 * Math.log(1 - v)) * Math.cos(2 * Math.PI * u2);
        }
        if (f >= f0 && f < end) out[at + (f - f0)] = v;
      }
    }
    block++;
  }
}

// ---------------------------------------------------------------- the interpreter

interface Ctx {
  dv: DataView;
  f64: Float64Array;
  ndim: number;
  slots: number; // absolute byte address of the slot table
  consts: number;
  regs: number;
  tile: number;
  rowOff: Float64Array; // per slot: sum_d(i_d * row_d) for the current row
}

const slotField = (x: Ctx, s: number, field: number): number => x.f64[(x.slots >>> 3) + s * (4 + x.ndim) + field]!;
const constant = (x: Ctx, k: number): number => x.f64[(x.consts >>> 3) + k]!;
const regIndex = (x: Ctx, r: number): number => (x.regs >>> 3) + r * x.tile;

/** Byte address of MEM slot s at column c0 of the current row. */
function memAddress(x: Ctx, s: number, c0: number): number {
  const bytes = DT_BYTES_OF[truncSatI32(slotField(x, s, S.DTYPE))]!;
  return toAddress(slotField(x, s, S.BASE) + (x.rowOff[s]! + c0 * slotField(x, s, S.LAST)) * bytes);
}

function readElem(dv: DataView, dt: number, addr: number): number {
  if (dt === DT.F64) return dv.getFloat64(addr, true);
  if (dt === DT.F32) return dv.getFloat32(addr, true);
  if (dt === DT.BOOL) return dv.getUint8(addr) !== 0 ? 1 : 0;
  return dv.getInt32(addr, true);
}

function writeElem(dv: DataView, dt: number, addr: number, v: number): void {
  if (dt === DT.F64) dv.setFloat64(addr, v, true);
  else if (dt === DT.F32) dv.setFloat32(addr, v, true);
  else if (dt === DT.BOOL) dv.setUint8(addr, v !== 0 ? 1 : 0);
  else dv.setInt32(addr, truncSatI32(v), true);
}

function unaryOp(op: number, v: number): number {
  switch (op) {
    case OP.NEG: return -v;
    case OP.ABS: return Math.abs(v);
    case OP.SQRT: return Math.sqrt(v);
    case OP.EXP: return Math.exp(v);
    case OP.LOG: return Math.log(v);
    case OP.SIN: return Math.sin(v);
    case OP.COS: return Math.cos(v);
    case OP.TANH: return Math.tanh(v);
    case OP.FLOOR: return Math.floor(v);
    case OP.CEIL: return Math.ceil(v);
    case OP.ROUND_F32: return Math.fround(v);
    case OP.WRAP_I32: return v | 0;
    case OP.TRUNC_I32: return truncSatI32(v);
    case OP.NOT: return v === 0 ? 1 : 0;
    case OP.BOOL: return v !== 0 ? 1 : 0;
    case OP.TAN: return Math.tan(v);
    case OP.ASIN: return Math.asin(v);
    case OP.ACOS: return Math.acos(v);
    case OP.ATAN: return Math.atan(v);
    case OP.SINH: return Math.sinh(v);
    case OP.COSH: return Math.cosh(v);
    case OP.ASINH: return Math.asinh(v);
    case OP.ACOSH: return Math.acosh(v);
    case OP.ATANH: return Math.atanh(v);
    case OP.LOG1P: return Math.log1p(v);
    case OP.EXPM1: return Math.expm1(v);
    case OP.LOG2: return Math.log2(v);
    case OP.LOG10: return Math.log10(v);
    case OP.EXP2: return Math.pow(2, v);
    case OP.SIGN: return v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : v;
    case OP.ISINF: return v === Infinity || v === -Infinity ? 1 : 0;
    case OP.ISFINITE: return Number.isFinite(v) ? 1 : 0;
    case OP.RINT: return rint(v);
    default: return v !== v ? 1 : 0; // ISNAN
  }
}

/** Round half to even, keeping the sign of zero (wasm f64.nearest, C's rint). */
export function rint(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const d = v - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (v < 0 || Object.is(v, -0)) ? -0 : r;
}

/** numpy's npy_divmod: the remainder has the divisor's sign; floor division is the integer below a / b. */
export function divmod(a: number, b: number, wantDiv: boolean): number {
  let mod = a % b;
  if (b === 0) return wantDiv ? a / b : mod;
  let div = (a - mod) / b;
  if (mod !== 0) {
    // (C's `if (mod)`: NaN is true)
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else mod = b < 0 || Object.is(b, -0) ? -0 : 0;
  if (!wantDiv) return mod;
  if (div === 0) return a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  let fd = Math.floor(div);
  if (div - fd > 0.5) fd += 1;
  return fd;
}

/** Exact int32 floor division and remainder (numpy's: x // 0 and x % 0 are 0, MIN // -1 wraps). */
export function idivmod(a: number, b: number, wantDiv: boolean): number {
  const x = a | 0;
  const y = b | 0;
  if (y === 0) return 0;
  const q = Math.floor(x / y); // exact: the quotient of int32s is never within an ulp below an integer
  return wantDiv ? q | 0 : x - q * y;
}

/** C's pow (abi.ts POW): Math.pow gives NaN for 1 ** NaN and (±1) ** ±Inf, C and numpy give 1. */
function cPow(a: number, b: number): number {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}

function binaryOp(op: number, a: number, b: number): number {
  switch (op) {
    case OP.ADD: return a + b;
    case OP.SUB: return a - b;
    case OP.MUL: return a * b;
    case OP.DIV: return a / b;
    case OP.POW: return cPow(a, b);
    case OP.MAX: return Math.max(a, b);
    case OP.MIN: return Math.min(a, b);
    case OP.EQ: return a === b ? 1 : 0;
    case OP.NE: return a !== b ? 1 : 0;
    case OP.LT: return a < b ? 1 : 0;
    case OP.LE: return a <= b ? 1 : 0;
    case OP.GT: return a > b ? 1 : 0;
    case OP.GE: return a >= b ? 1 : 0;
    case OP.ATAN2: return Math.atan2(a, b);
    case OP.HYPOT: return Math.hypot(a, b);
    case OP.MOD: return divmod(a, b, false);
    case OP.FLOORDIV: return divmod(a, b, true);
    case OP.FMAX: return a !== a ? b : b !== b ? a : a > b ? a : b;
    case OP.FMIN: return a !== a ? b : b !== b ? a : a < b ? a : b;
    case OP.IMOD: return idivmod(a, b, false);
    case OP.IFLOORDIV: return idivmod(a, b, true);
    default: return Math.imul(a, b); // IMUL (ToInt32 of both operands)
  }
}

/** The fold of abi.ts's tileSum (prod: with *): q_j = p_j + p_{j+8}, r_j = q_j + q_{j+4}, s_j = r_j + r_{j+2}, s_0 + s_1. */
function foldLanes(p: number[], prod: boolean): number {
  for (let half = TILE_SUM_LANES >> 1; half >= 1; half >>= 1) {
    for (let j = 0; j < half; j++) p[j] = prod ? p[j]! * p[j + half]! : p[j]! + p[j + half]!;
  }
  return p[0]!;
}

/** tileSum / tileProd exactly as abi.ts defines them: TILE_SUM_LANES interleaved accumulators, folded by halves. */
function tileFold(f: Float64Array, at: number, len: number, prod: boolean): number {
  const p = new Array<number>(TILE_SUM_LANES).fill(prod ? 1 : 0);
  for (let i = 0; i < len; i++) {
    if (prod) p[i % TILE_SUM_LANES]! *= f[at + i]!;
    else p[i % TILE_SUM_LANES]! += f[at + i]!;
  }
  return foldLanes(p, prod);
}

function checkInstr(code: Int32Array, pc: number, nregs: number, nslots: number, nconst: number, kindOf: (s: number) => number, lastOf: (s: number) => number, dtypeOf: (s: number) => number, constOf: (k: number) => number): number {
  const op = code[pc]!;
  const w1 = code[pc + 1]!, w2 = code[pc + 2]!, w3 = code[pc + 3]!;
  const isReg = (r: number) => (r >>> 0) < nregs;
  const isConst = (k: number) => (k >>> 0) < nconst;
  const isMem = (s: number) => (s >>> 0) < nslots && kindOf(s) === SLOT_MEM;
  const isIndex = (s: number) => (s >>> 0) < nslots && kindOf(s) === SLOT_INDEX;
  const ok = (b: boolean) => (b ? RC.OK : RC.BAD_OPCODE);
  if (!isReg(w1)) return RC.BAD_OPCODE;
  if (op === OP.IOTA) return ok(isIndex(w2));
  if (op === OP.RANDOM) {
    if (!isIndex(w2) || (w3 >>> 0) > 1) return RC.BAD_OPCODE;
    const k = code[pc + 4]!; // seed constants k and k + 1
    if (k >>> 0 >= nconst || ((k + 1) | 0) >>> 0 >= nconst) return RC.BAD_OPCODE;
    return lastOf(w2) === 1 ? RC.OK : RC.BAD_HEADER;
  }
  if (op === OP.LOAD) return ok(isMem(w2));
  if (op === OP.CONST) return ok(isConst(w2));
  if (isUnary(op)) return ok(isReg(w2));
  if (isBinary(op)) {
    const mode = code[pc + 4]!;
    if ((mode >>> 0) > 3) return RC.BAD_OPCODE;
    return ok((mode & 1 ? isConst(w2) : isReg(w2)) && (mode & 2 ? isConst(w3) : isReg(w3)));
  }
  if (op === OP.SELECT) {
    const w4 = code[pc + 4]!, mode = code[pc + 5]!;
    if ((mode >>> 0) > 3 || !isReg(w2)) return RC.BAD_OPCODE;
    return ok((mode & 1 ? isConst(w3) : isReg(w3)) && (mode & 2 ? isConst(w4) : isReg(w4)));
  }
  if (op === OP.STORE || (op >= OP.RSUM && op <= OP.RMAX)) return ok(isMem(w2));
  if (op === OP.CUMSUM || op === OP.CUMPROD) return ok(isReg(w2) && isMem(w3) && (dtypeOf(w3) === DT.F64 || dtypeOf(w3) === DT.F32));
  if (op === OP.RARGMIN || op === OP.RARGMAX || op === OP.RNANARGMIN || op === OP.RNANARGMAX) return ok(isMem(w2) && isMem(w2 + 1) && isIndex(w3));
  if (op === OP.HIST) {
    // HIST a w s k: w a register or -1; an F64 accumulator slot; the parameter block inside the constants
    const k = code[pc + 4]!;
    if ((w2 !== -1 && !isReg(w2)) || !isMem(w3) || dtypeOf(w3) !== DT.F64 || k < 0 || k + HIST_P.EDGES > nconst) return RC.BAD_OPCODE;
    const n = constOf(k + HIST_P.BINS), flags = constOf(k + HIST_P.FLAGS);
    if (!(n >= 1 && n <= 2147483647) || n !== Math.floor(n) || !(flags >= 0 && flags < 32) || flags !== Math.floor(flags)) return RC.BAD_OPCODE;
    return ok((flags & HF.EDGES) === 0 || k + HIST_P.EDGES + n + 1 <= nconst);
  }
  return ok(isMem(w2) && isMem(w2 + 1) && isMem(w2 + 2)); // RVAR
}

/** Runs the program at byte address prog of buffer; returns an RC code, exactly as the wasm run(). */
export function runReference(buffer: ArrayBufferLike, prog: number): number {
  prog = prog >>> 0;
  const i32 = new Int32Array(buffer);
  const f64 = new Float64Array(buffer, 0, buffer.byteLength >>> 3);
  const dv = new DataView(buffer);
  const hw = (w: number) => i32[(prog >>> 2) + w]!;
  if (hw(H.MAGIC) >>> 0 !== PROGRAM_MAGIC >>> 0) return RC.BAD_MAGIC;
  const ndim = hw(H.NDIM), rowLen = hw(H.ROWLEN), nslots = hw(H.NSLOTS), ninstr = hw(H.NINSTR);
  const nconst = hw(H.NCONST), nregs = hw(H.NREGS), tile = hw(H.TILE);
  if ((ndim >>> 0) > MAX_DIMS || rowLen < 0 || (nslots >>> 0) > MAX_SLOTS || ninstr < 1 || nconst < 0) return RC.BAD_HEADER;
  if ((nregs >>> 0) > MAX_REGS || tile < 4 || tile > MAX_TILE || (tile & 3) !== 0) return RC.BAD_HEADER;
  const extentsAt = prog + (hw(H.EXTENTS) >>> 0);
  const x: Ctx = {
    dv,
    f64,
    ndim,
    slots: prog + (hw(H.SLOTS) >>> 0),
    consts: prog + (hw(H.CONSTS) >>> 0),
    regs: hw(H.REGS) >>> 0,
    tile,
    rowOff: new Float64Array(nslots),
  };
  const codeAt = prog + (hw(H.INSTR) >>> 0);
  const code = new Int32Array(buffer, codeAt, Math.min(Math.max(ninstr, 0), (buffer.byteLength - codeAt) >>> 2));

  const extents: number[] = [];
  let empty = rowLen === 0;
  for (let d = 0; d < ndim; d++) {
    const e = i32[(extentsAt >>> 2) + d]!;
    if (e < 0) return RC.BAD_HEADER;
    if (e === 0) empty = true;
    extents.push(e);
  }
  const kindOf = (s: number) => truncSatI32(slotField(x, s, S.KIND));
  const lastOf = (s: number) => slotField(x, s, S.LAST);
  const dtypeOf = (s: number) => truncSatI32(slotField(x, s, S.DTYPE));
  for (let s = 0; s < nslots; s++) {
    const kind = kindOf(s);
    if (kind !== SLOT_MEM && kind !== SLOT_INDEX) return RC.BAD_HEADER;
    if (kind === SLOT_MEM && (truncSatI32(slotField(x, s, S.DTYPE)) >>> 0) > 3) return RC.BAD_HEADER;
  }
  let pc = 0;
  let nrandom = 0;
  for (;;) {
    if (pc >= ninstr) return RC.BAD_OPCODE;
    const op = code[pc]!;
    if (op === OP.END) break;
    const arity = opArity(op);
    if (arity < 0 || pc + arity >= ninstr) return RC.BAD_OPCODE;
    const rc = checkInstr(code, pc, nregs, nslots, nconst, kindOf, lastOf, dtypeOf, (k) => constant(x, k));
    if (rc !== RC.OK) return rc;
    if (op === OP.RANDOM) nrandom++;
    pc += 1 + arity;
  }
  if (nrandom > MAX_RANDOM_OPS) return RC.BAD_HEADER;
  if (empty) return RC.OK;

  // the RNG key of each RANDOM instruction, by program order
  const keys: bigint[] = [];
  for (pc = 0; code[pc] !== OP.END; pc += 1 + opArity(code[pc]!)) {
    if (code[pc] === OP.RANDOM) {
      const k = code[pc + 4]!;
      keys.push(rngKey(Math.trunc(constant(x, k)) >>> 0, Math.trunc(constant(x, k + 1)) >>> 0));
    }
  }

  const idx = new Array<number>(ndim).fill(0);
  for (;;) {
    for (let s = 0; s < nslots; s++) {
      let off = 0;
      for (let d = 0; d < ndim; d++) off += idx[d]! * slotField(x, s, S.ROW + d);
      x.rowOff[s] = off;
    }
    for (let c0 = 0; c0 < rowLen; c0 += tile) runTile(x, code, keys, c0, Math.min(tile, rowLen - c0));
    let d = ndim - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < extents[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return RC.OK;
}

function runTile(x: Ctx, code: Int32Array, keys: bigint[], c0: number, len: number): void {
  const { f64, dv } = x;
  let nrandom = 0;
  for (let pc = 0; ; ) {
    const op = code[pc]!;
    if (op === OP.END) return;
    const w1 = code[pc + 1]!, w2 = code[pc + 2]!;
    const r = regIndex(x, w1);
    if (isUnary(op)) {
      const a = regIndex(x, w2);
      for (let c = 0; c < len; c++) f64[r + c] = unaryOp(op, f64[a + c]!);
    } else if (isBinary(op)) {
      const w3 = code[pc + 3]!, mode = code[pc + 4]!;
      const a = regIndex(x, w2), b = regIndex(x, w3);
      const ka = mode & 1 ? constant(x, w2) : 0, kb = mode & 2 ? constant(x, w3) : 0;
      for (let c = 0; c < len; c++) {
        f64[r + c] = binaryOp(op, mode & 1 ? ka : f64[a + c]!, mode & 2 ? kb : f64[b + c]!);
      }
    } else {
      switch (op) {
        case OP.IOTA: {
          const rowPos = slotField(x, w2, S.BASE) + x.rowOff[w2]!, last = slotField(x, w2, S.LAST);
          for (let c = 0; c < len; c++) f64[r + c] = rowPos + (c0 + c) * last;
          break;
        }
        case OP.RANDOM: {
          const f0 = Math.trunc(slotField(x, w2, S.BASE) + x.rowOff[w2]! + c0);
          randomValues(f64, r, Math.max(f0, 0), len, keys[nrandom++]!, code[pc + 3]!);
          break;
        }
        case OP.LOAD: {
          const dt = truncSatI32(slotField(x, w2, S.DTYPE)), bytes = DT_BYTES_OF[dt]!;
          const at = memAddress(x, w2, c0), step = slotField(x, w2, S.LAST) * bytes;
          for (let c = 0; c < len; c++) f64[r + c] = readElem(dv, dt, toAddress(at + c * step));
          break;
        }
        case OP.CONST: {
          const v = constant(x, w2);
          for (let c = 0; c < len; c++) f64[r + c] = v;
          break;
        }
        case OP.SELECT: {
          const w3 = code[pc + 3]!, w4 = code[pc + 4]!, mode = code[pc + 5]!;
          const cr = regIndex(x, w2), a = regIndex(x, w3), b = regIndex(x, w4);
          const ka = mode & 1 ? constant(x, w3) : 0, kb = mode & 2 ? constant(x, w4) : 0;
          for (let c = 0; c < len; c++) {
            f64[r + c] = f64[cr + c] !== 0 ? (mode & 1 ? ka : f64[a + c]!) : mode & 2 ? kb : f64[b + c]!;
          }
          break;
        }
        case OP.STORE: {
          const dt = truncSatI32(slotField(x, w2, S.DTYPE)), bytes = DT_BYTES_OF[dt]!;
          const at = memAddress(x, w2, c0), step = slotField(x, w2, S.LAST) === 0 ? 0 : bytes;
          for (let c = 0; c < len; c++) writeElem(dv, dt, at + c * step, f64[r + c]!);
          break;
        }
        case OP.CUMSUM:
        case OP.CUMPROD: {
          // running sums / products, element after element (abi.ts); an F32 accumulator rounds every step
          const s = code[pc + 3]!;
          const a = regIndex(x, w2);
          const f32 = truncSatI32(slotField(x, s, S.DTYPE)) === DT.F32;
          const bytes = f32 ? 4 : 8;
          const at = memAddress(x, s, c0);
          const step = slotField(x, s, S.LAST) === 0 ? 0 : bytes;
          const get = (p: number) => (f32 ? dv.getFloat32(p, true) : dv.getFloat64(p, true));
          const put = (p: number, v: number) => (f32 ? dv.setFloat32(p, v, true) : dv.setFloat64(p, v, true));
          for (let c = 0; c < len; c++) {
            const acc = get(at + c * step);
            let v = op === OP.CUMSUM ? acc + f64[a + c]! : acc * f64[a + c]!;
            if (f32) v = Math.fround(v);
            put(at + c * step, v);
            f64[r + c] = v;
          }
          break;
        }
        case OP.HIST: {
          // numpy's bin of each value (kernels/histogram.ts), counted or weighted into n f64 counters
          const at = memAddress(x, code[pc + 3]!, c0);
          const p = f64.subarray((x.consts >>> 3) + code[pc + 4]!);
          const w = w2 < 0 ? -1 : regIndex(x, w2);
          for (let c = 0; c < len; c++) {
            const i = histBin(f64[r + c]!, p);
            if (i >= 0) dv.setFloat64(at + 8 * i, dv.getFloat64(at + 8 * i, true) + (w < 0 ? 1 : f64[w + c]!), true);
          }
          break;
        }
        case OP.RSUM:
        case OP.RPROD:
        case OP.RMIN:
        case OP.RMAX: {
          const at = memAddress(x, w2, c0);
          const fold = (acc: number, v: number) =>
            op === OP.RSUM ? acc + v : op === OP.RPROD ? acc * v : op === OP.RMIN ? Math.min(acc, v) : Math.max(acc, v);
          if (slotField(x, w2, S.LAST) === 0) {
            let acc = dv.getFloat64(at, true);
            if (op === OP.RSUM) acc = acc + tileFold(f64, r, len, false);
            else if (op === OP.RPROD) acc = acc * tileFold(f64, r, len, true);
            else for (let c = 0; c < len; c++) acc = fold(acc, f64[r + c]!);
            dv.setFloat64(at, acc, true);
          } else {
            for (let c = 0; c < len; c++) dv.setFloat64(at + 8 * c, fold(dv.getFloat64(at + 8 * c, true), f64[r + c]!), true);
          }
          break;
        }
        case OP.RARGMIN:
        case OP.RARGMAX:
        case OP.RNANARGMIN:
        case OP.RNANARGMAX: {
          const xs = code[pc + 3]!;
          const pv = memAddress(x, w2, c0), pi = memAddress(x, w2 + 1, c0);
          const step = slotField(x, w2, S.LAST) === 0 ? 0 : 8;
          const xRow = slotField(x, xs, S.BASE) + x.rowOff[xs]!, xLast = slotField(x, xs, S.LAST);
          for (let c = 0; c < len; c++) {
            const a = f64[r + c]!;
            const val = dv.getFloat64(pv + c * step, true), id = dv.getFloat64(pi + c * step, true);
            const better = op === OP.RARGMIN || op === OP.RNANARGMIN ? a < val : a > val;
            const take = op === OP.RNANARGMIN || op === OP.RNANARGMAX ? a === a && (id === -1 || better) : id === -1 || better || (a !== a && val === val);
            if (take) {
              dv.setFloat64(pv + c * step, a, true);
              dv.setFloat64(pi + c * step, xRow + (c0 + c) * xLast, true);
            }
          }
          break;
        }
        default: {
          // RVAR
          const pn = memAddress(x, w2, c0), pm = memAddress(x, w2 + 1, c0), pM2 = memAddress(x, w2 + 2, c0);
          if (slotField(x, w2, S.LAST) === 0) {
            const nb = len;
            const mb = tileFold(f64, r, len, false) / nb;
            const p = new Array<number>(TILE_SUM_LANES).fill(0);
            for (let i = 0; i < len; i++) {
              const d = f64[r + i]! - mb;
              p[i % TILE_SUM_LANES]! += d * d;
            }
            const M2b = foldLanes(p, false);
            const na = dv.getFloat64(pn, true);
            if (na === 0) {
              dv.setFloat64(pn, nb, true);
              dv.setFloat64(pm, mb, true);
              dv.setFloat64(pM2, M2b, true);
            } else {
              const ma = dv.getFloat64(pm, true);
              const N = na + nb;
              const d = mb - ma;
              dv.setFloat64(pm, ma + d * (nb / N), true);
              dv.setFloat64(pM2, (dv.getFloat64(pM2, true) + M2b) + d * d * ((na * nb) / N), true);
              dv.setFloat64(pn, N, true);
            }
          } else {
            for (let c = 0; c < len; c++) {
              const a = f64[r + c]!;
              const n = dv.getFloat64(pn + 8 * c, true) + 1;
              const mean = dv.getFloat64(pm + 8 * c, true);
              const d = a - mean;
              const mean2 = mean + d / n;
              dv.setFloat64(pn + 8 * c, n, true);
              dv.setFloat64(pm + 8 * c, mean2, true);
              dv.setFloat64(pM2 + 8 * c, dv.getFloat64(pM2 + 8 * c, true) + d * (a - mean2), true);
            }
          }
        }
      }
    }
    pc += 1 + opArity(op);
  }
}
