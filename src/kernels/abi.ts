/**
 * The binary interface between the JS side and the tile interpreter (assembly/ and its JS twin,
 * reference.ts). One place for every opcode and layout constant; both interpreters and the program
 * encoder import these numbers, so they cannot drift apart.
 *
 * A *program* tells the interpreter how to compute one chunk (or one region of a chunk):
 *
 *   for each row (C-order odometer over `extents`, the R leading dims after collapsing)
 *     for each tile [c0, c0 + len) of the innermost dim (length rowLen, tiles of `tile` elements)
 *       run every instruction, in order, on registers of `len` f64 values
 *
 * Registers are f64 tiles in the caller's scratch memory; their contents after a run are unspecified (an
 * interpreter may skip writing a register that no other instruction reads; see "Fused runs" below).
 * Values of every dtype are carried as f64 (exact for int32 and bool); dtype rules are explicit
 * instructions (ROUND_F32, WRAP_I32, IMUL...).
 *
 * Slots are the program's views of memory and of index spaces. Each slot record is `4 + R` f64 words:
 *   [kind, dtype, base, last, row_0 .. row_{R-1}]
 * The value position of a slot at (row multi-index i, column c) is
 *   base + sum_d(i_d * row_d) + c * last
 * For a MEM slot that position is an *element* offset from `base`, which is an absolute byte address:
 *   byte address = base + (sum_d(i_d * row_d) + c * last) * dtypeBytes. Strides are integers and may be
 *   negative (views: flips, transposes, steps). `last` is 0 (broadcast) or 1 (contiguous) for slots that a
 *   sink writes (STORE, accumulators); a slot only read by LOAD may have any `last` (a strided gather).
 * For an INDEX slot the position itself is the value (a global index, exact below 2^53).
 */

/** Header: Int32 words at the program's start (program address is 8-byte aligned). */
export const H = {
  MAGIC: 0, // PROGRAM_MAGIC
  NDIM: 1, // R: number of row dims (0..MAX_DIMS)
  ROWLEN: 2, // length of the innermost (collapsed) dim
  NSLOTS: 3,
  NINSTR: 4, // number of Int32 words in the instruction stream
  NCONST: 5,
  NREGS: 6,
  TILE: 7, // tile length in elements: a multiple of 4, 4..MAX_TILE
  EXTENTS: 8, // byte offset from program start to Int32[R] row extents
  SLOTS: 9, // byte offset from program start to the Float64 slot table (8-aligned)
  INSTR: 10, // byte offset from program start to the Int32 instruction words
  CONSTS: 11, // byte offset from program start to the Float64 constants (8-aligned)
  REGS: 12, // absolute byte address of the register file: NREGS * TILE f64 (16-aligned)
  SCRATCH: 13, // absolute byte address of SCRATCH_BYTES of scratch for the interpreter (16-aligned)
  WORDS: 16, // header size in Int32 words
} as const;

export const PROGRAM_MAGIC = 0x7e55e2a1;
export const MAX_DIMS = 32;
export const MAX_TILE = 4096;
export const DEFAULT_TILE = 1024;
export const MAX_REGS = 64;
export const SCRATCH_BYTES = 64 * 1024;

/**
 * Interpreter limits (both interpreters; a program beyond them gets RC.BAD_HEADER): the interpreter keeps
 * per-slot row offsets and one RNG lane-state record per RANDOM instruction in the SCRATCH area.
 */
export const MAX_SLOTS = 1024;
export const MAX_RANDOM_OPS = 96;

/** Random numbers: values depend only on (seed, global flat index); see RANDOM below. */
export const RNG_BLOCK = 256;

/** Interleaved accumulators of tileSum / tileProd (see below); RNG_BLOCK is a multiple of it. */
export const TILE_SUM_LANES = 16;

/** Slot record layout (f64 words). */
export const S = { KIND: 0, DTYPE: 1, BASE: 2, LAST: 3, ROW: 4 } as const;
export const SLOT_MEM = 1;
export const SLOT_INDEX = 2;

/** Storage dtype codes of MEM slots. */
export const DT = { F64: 0, F32: 1, I32: 2, BOOL: 3 } as const;
export const DT_BYTES = [8, 4, 4, 1] as const;

/**
 * Opcodes. Instruction words are [op, args...]; `r` is a register, `s` a slot, `k` a constant index.
 *
 * Sources
 *   IOTA r s          r[c] = value of INDEX slot s at c
 *   RANDOM r s kind k r[c] = random value for global flat index f = value of INDEX slot s at c
 *                     (s.last must be 1). Seed = consts[k] (low 32 bits, as integer) + 2^32 * consts[k+1] (high 32).
 *                     kind 0: uniform [0,1); kind 1: standard normal. Exact definition below.
 *   LOAD r s          r[c] = element of MEM slot s at c, converted to f64 (bool: 0 or 1); any `last` stride
 *   CONST r k         r[c] = consts[k]
 * Unary (op r a): r[c] = f(a[c])
 *   NEG ABS SQRT EXP LOG SIN COS TANH FLOOR CEIL as IEEE / Math.* (NaN and infinities as numpy)
 *   ROUND_F32         round to nearest float32 (Math.fround)
 *   WRAP_I32          integral value to int32 with two's-complement wrap (x | 0 in JS; input is integral)
 *   TRUNC_I32         toward zero, saturating to [-2^31, 2^31-1], NaN -> 0 (i32.trunc_sat_f64_s)
 *   NOT               x == 0 ? 1 : 0            BOOL   x != 0 ? 1 : 0  (NaN -> 1)
 *   ISNAN             x != x ? 1 : 0
 *   TAN ASIN ACOS ATAN SINH COSH ASINH ACOSH ATANH LOG1P EXPM1 LOG2 LOG10   libm, as Math.* (may differ in
 *                     the last bit between the interpreters, as EXP LOG SIN COS TANH)
 *   EXP2              pow(2, x)
 *   SIGN              x > 0 ? 1 : x < 0 ? -1 : x == 0 ? +0 : x   (NaN stays NaN; -0 gives +0, as numpy)
 *   ISINF             |x| == Infinity ? 1 : 0   ISFINITE   x - x == 0 ? 1 : 0
 *   RINT              round to nearest, ties to even, keeping the sign of zero (f64.nearest)
 * Binary (op r a b mode): mode bit 0 set: a is a constant index instead of a register; bit 1: same for b.
 *   ADD SUB MUL DIV   IEEE f64
 *   POW               C pow semantics: Math.pow except pow(1, y) = 1 for every y (NaN too) and
 *                     pow(-1, ±Inf) = 1, where Math.pow gives NaN (numpy follows C); pow(x, ±0) = 1 in both
 *   MAX MIN           NaN-propagating (numpy maximum/minimum; wasm f64.max/min)
 *   EQ NE LT LE GT GE 1 or 0 (IEEE comparisons: NaN != NaN)
 *   IMUL              int32 multiply with wrap (Math.imul of the int32 operands)
 *   ATAN2 HYPOT       libm atan2(a, b), hypot(a, b)
 *   MOD FLOORDIV      numpy's npy_divmod: mod = fmod(a, b); b == 0: MOD gives mod (NaN), FLOORDIV a / b;
 *                     else div = (a - mod) / b; if mod != 0 and (b < 0) != (mod < 0): mod += b, div -= 1;
 *                     if mod == 0: mod = copysign(0, b); FLOORDIV: div == 0 ? copysign(0, a / b) :
 *                     floor(div) + (div - floor(div) > 0.5 ? 1 : 0)
 *   FMAX FMIN         NaN-ignoring: a is NaN: b; b is NaN: a; else a > b ? a : b (FMIN: a < b ? a : b)
 *   IMOD IFLOORDIV    on the ToInt32 of the operands (as IMUL): exact floor division and the remainder with the divisor's sign;
 *                     b == 0 gives 0; -2^31 // -1 wraps to -2^31 (numpy)
 * Ternary
 *   SELECT r c a b mode  r = c != 0 ? a : b; mode bit 0: a is a constant; bit 1: b is a constant
 * Sinks (s is a MEM slot; reductions accumulate in f64 slots)
 *   STORE a s         element of s at c = convert(a[c]) for the slot dtype (F32: fround; I32: value is
 *                     already integral and in range; BOOL: a != 0)
 *   RSUM a s          s.last == 0 (scalar mode): acc at position(c=0) += tileSum(a[0..len));
 *                     s.last == 1 (vector mode): acc[c] += a[c]
 *   RPROD a s         as RSUM with *, tileProd
 *   RMIN a s / RMAX   scalar: acc = min(acc, a[c]) for each c; vector: acc[c] = min(acc[c], a[c]); NaN-propagating
 *   RARGMIN a s x     value accumulators in slot s, index accumulators (f64) in slot s+1 (same layout),
 *   RARGMAX           x an INDEX slot giving each element's index. Per element, in increasing c:
 *                     if (idx == -1 || a < val || (a != a && val == val)) { val = a; idx = x }
 *                     (RARGMAX with >). First occurrence wins; the first NaN wins and sticks.
 *   RNANARGMIN a s x  as RARGMIN, but NaN elements are skipped: if (a == a && (idx == -1 || a < val))
 *   RNANARGMAX        (RNANARGMAX with >); an all-NaN slice keeps idx == -1.
 *   RVAR a s          Welford/Chan accumulators: count in slot s, mean in s+1, M2 in s+2.
 *                     scalar mode, per tile: nb = len, mb = tileSum(a) / nb, M2b = tileSum((a - mb)^2),
 *                       then chanCombine(acc, nb, mb, M2b);
 *                     vector mode, per element: n += 1; d = a - mean; mean += d / n; M2 += d * (a - mean).
 * Scans (s is a MEM accumulator slot of dtype F64 or F32; r a register written, a one read)
 *   CUMSUM r a s      running sums: per element, in increasing c, acc = acc + a[c] (F32: rounded to float32,
 *                     so float32 scans are float32 arithmetic, as numpy's), then r[c] = acc. Scalar mode
 *                     (s.last == 0): one accumulator along the row; vector mode (s.last == 1): acc[c] per
 *                     column, carried from row to row (a scan along an outer axis, whose row stride in s is 0).
 *   CUMPROD r a s     as CUMSUM with *.
 * Histogram (numpy.histogram's bin of each value; kernels/histogram.ts is the JS twin)
 *   HIST a w s k      w: a register of weights, or -1 (each value counts 1); s: a MEM F64 slot whose position
 *                     at c = 0 is counter 0 of n consecutive f64 counters; consts[k + HIST_P.*] the parameters
 *                     (n = BINS). For each c in increasing order: i = bin(a[c]); if i >= 0, counter i += w[c] (or 1).
 *                     bin(v), explicit edges (FLAGS & HF.EDGES; e_j = consts[k + HIST_P.EDGES + j], j = 0..n):
 *                       -1 unless e_0 <= v <= e_n (NaN: -1); v == e_n: n - 1; else the largest i with e_i <= v.
 *                     bin(v), uniform bins (numpy's fast path, exactly):
 *                       -1 unless KEEP_LO <= v <= KEEP_HI; t = v - SUB_LO (HF.F32_SUB: rounded to float32);
 *                       f = t * NORM (HF.F32_MUL: rounded); i = f >= n ? n : f > 0 ? trunc(f) : 0; i == n: i = n - 1;
 *                       if v < edge(i): i -= 1, else if i != n - 1 and v >= edge(i + 1): i += 1; i clamped to [0, n - 1].
 *                       edge(j) = STOP for j == n, else (HF.STEP_ZERO ? (j / n) * DELTA : j * STEP) + START,
 *                       rounded to float32 with HF.F32_EDGES (numpy's linspace, then astype).
 *
 * tileSum(v) (and tileProd with *) is defined exactly so every interpreter agrees bit for bit, whatever its
 * vector width: TILE_SUM_LANES = 16 interleaved accumulators, folded by halves:
 *   p_0 .. p_15 = 0 (1 for prod); for i in 0..len-1: p[i % 16] += v[i];
 *   q_j = p_j + p_{j+8} (j < 8); r_j = q_j + q_{j+4} (j < 4); s_j = r_j + r_{j+2} (j < 2); result = s_0 + s_1
 * Sixteen, because one chain of dependent adds is latency-bound: 16 lanes are 8 wasm f64x2, 4 AVX2 or
 * 2 AVX-512 accumulators, enough independent chains for every width, and folding by halves is each
 * width's natural reduction (add the upper half of the accumulators to the lower, repeat).
 *
 * chanCombine((na, ma, M2a), nb, mb, M2b), exactly in this order:
 *   if na == 0: (nb, mb, M2b); else N = na + nb; d = mb - ma;
 *   mean = ma + d * (nb / N); M2 = (M2a + M2b) + d * d * (na * nb / N); count = N
 *
 * Fused runs (an optimization of the wasm interpreter, invisible in every output): the instructions
 *   RANDOM r s 0 k; [ADD r r k' 2 | ADD r k' r 1 | SUB r r k' 2]; RSUM r acc
 * (consecutive, uniform kind, acc in scalar mode, k' - 1 (ADD) or k' + 1 (SUB) exact in f64, and register r
 * named by no other instruction of the program) are computed in one pass without writing r: each element
 * is x + c with x = toUnit + 1 in [1, 2) and c = k' - 1 or -(1 + k') (or -1 without the ADD/SUB), which is
 * the same single rounding as (x - 1) + k', summed with exactly tileSum's association. The emitter gets it
 * by emitting exactly what it emits for random(...).add(k).sum(); the JS twin runs the instructions as usual.
 *
 * RANDOM, exactly (u64 arithmetic mod 2^64):
 *   mix(z) = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB; z ^ (z >> 31)
 *   G = 0x9E3779B97F4A7C15; K = mix(seed ^ 0x5851F42D4C957F2D)
 *   for global flat index f: b = floor(f / RNG_BLOCK), p = f % RNG_BLOCK
 *   state word j (0..15) of block b: w_j = mix(K + (16 * b + j + 1) * G)
 *   lane l (0..3) is a xoshiro256+ generator with state (s0, s1, s2, s3) = (w_{4l}, w_{4l+1}, w_{4l+2}, w_{4l+3})
 *   xoshiro256+ next(): out = s0 + s3; t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
 *                        s3 = rotl(s3, 45); return out
 *   toUnit(u) = f64 with bits (u >> 12) | 0x3FF0000000000000, minus 1.0   (in [0, 1), 52 random bits)
 *   uniform: element f is toUnit of the (q + 1)-th output of lane (p % 4), where q = floor(p / 4)
 *   normal:  u1 = toUnit of the (2q + 1)-th output of lane (p % 4), u2 = toUnit of the (2q + 2)-th;
 *            value = sqrt(-2 * log(1 - u1)) * cos(2 * PI * u2)
 */
export const OP = {
  END: 0,
  IOTA: 1,
  RANDOM: 2,
  LOAD: 3,
  CONST: 4,
  // unary
  NEG: 10,
  ABS: 11,
  SQRT: 12,
  EXP: 13,
  LOG: 14,
  SIN: 15,
  COS: 16,
  TANH: 17,
  FLOOR: 18,
  CEIL: 19,
  ROUND_F32: 20,
  WRAP_I32: 21,
  TRUNC_I32: 22,
  NOT: 23,
  BOOL: 24,
  ISNAN: 25,
  // unary (libm: the JS twin's Math may differ in the last bit, as for EXP LOG SIN COS TANH)
  TAN: 26,
  ASIN: 27,
  ACOS: 28,
  ATAN: 29,
  SINH: 30,
  COSH: 31,
  ASINH: 32,
  ACOSH: 33,
  ATANH: 34,
  LOG1P: 35,
  EXPM1: 36,
  LOG2: 37,
  LOG10: 38,
  EXP2: 39,
  SIGN: 40,
  ISINF: 41,
  ISFINITE: 42,
  RINT: 43,
  // binary
  ADD: 50,
  SUB: 51,
  MUL: 52,
  DIV: 53,
  POW: 54,
  MAX: 55,
  MIN: 56,
  EQ: 57,
  NE: 58,
  LT: 59,
  LE: 60,
  GT: 61,
  GE: 62,
  IMUL: 63,
  ATAN2: 64,
  HYPOT: 65,
  MOD: 66,
  FLOORDIV: 67,
  FMAX: 68,
  FMIN: 69,
  // binary, int32 operands (exact integer floor division and remainder)
  IMOD: 70,
  IFLOORDIV: 71,
  // ternary
  SELECT: 80,
  // sinks
  STORE: 90,
  RSUM: 91,
  RPROD: 92,
  RMIN: 93,
  RMAX: 94,
  RARGMIN: 95,
  RARGMAX: 96,
  RVAR: 97,
  RNANARGMIN: 98,
  RNANARGMAX: 99,
  // scans
  CUMSUM: 100,
  CUMPROD: 101,
  // histogram
  HIST: 110,
} as const;

/** HIST's parameter block: offsets from its first constant (the edges of HF.EDGES follow the fixed part). */
export const HIST_P = {
  BINS: 0, FLAGS: 1, KEEP_LO: 2, KEEP_HI: 3, SUB_LO: 4, NORM: 5, START: 6, STEP: 7, DELTA: 8, STOP: 9, EDGES: 10,
} as const;

/** HIST flags. */
export const HF = { F32_SUB: 1, F32_MUL: 2, F32_EDGES: 4, STEP_ZERO: 8, EDGES: 16 } as const;

export type OpName = keyof typeof OP;

/** Unary opcodes are NEG..RINT, binary ADD..IFLOORDIV (each range has no gaps). */
export const isUnary = (op: number): boolean => op >= OP.NEG && op <= OP.RINT;
export const isBinary = (op: number): boolean => op >= OP.ADD && op <= OP.IFLOORDIV;

/** Number of argument words after the opcode, by opcode. */
export function opArity(op: number): number {
  if (op === OP.IOTA || op === OP.LOAD || op === OP.CONST) return 2;
  if (op === OP.RANDOM) return 4;
  if (isUnary(op)) return 2;
  if (isBinary(op)) return 4;
  if (op === OP.SELECT) return 5;
  if (op === OP.STORE || (op >= OP.RSUM && op <= OP.RMAX) || op === OP.RVAR) return 2;
  if (op === OP.RARGMIN || op === OP.RARGMAX || op === OP.RNANARGMIN || op === OP.RNANARGMAX) return 3;
  if (op === OP.CUMSUM || op === OP.CUMPROD) return 3;
  if (op === OP.HIST) return 4;
  return -1;
}

/**
 * Return codes of run(). OUT_OF_BOUNDS comes from the native interpreter only, where the wasm kernels trap:
 * it checks every address a program would touch before running it (its JS wrapper then throws the
 * wasm trap's error, so callers see one behaviour).
 */
export const RC = { OK: 0, BAD_MAGIC: 1, BAD_OPCODE: 2, BAD_HEADER: 3, OUT_OF_BOUNDS: 4 } as const;

/**
 * The GEMM record: one call of the GEMM kernel, gemm(rec), computes C = A·B (beta 0) or C += A·B (beta 1)
 * for an M×K matrix A, a K×N matrix B and an M×N matrix C, all of one dtype (F64 or F32), anywhere in the
 * kernel memory, each with its own two element strides (any integers, negative or zero too: a transposed
 * operand is the same memory with its strides swapped). The record lies at an 8-byte-aligned byte address
 * `rec`, GEMM_WORDS Float64 words, indices G:
 *   MAGIC      GEMM_MAGIC
 *   DTYPE      DT.F64 or DT.F32 (A, B and C alike)
 *   M N K      sizes, integers >= 0
 *   A A_ROW A_COL   A's base (absolute byte address of A[0, 0]), strides in elements between rows i and
 *                   between columns k: A[i, k] is at A + (i * A_ROW + k * A_COL) * bytes(dtype)
 *   B B_ROW B_COL   B[k, j] at B + (k * B_ROW + j * B_COL) * bytes
 *   C C_ROW C_COL   C[i, j] at C + (i * C_ROW + j * C_COL) * bytes; only these M×N elements are written
 *   BETA       0: C = A·B (C's prior contents are never read); 1: C += A·B
 *   SCRATCH SCRATCH_BYTES   16-aligned scratch the kernel packs panels into, at least GEMM_SCRATCH_BYTES
 *                   (the JS twin checks it and does not use it)
 * C must not overlap A, B or the scratch (their overlap with each other is fine: they are only read).
 * Returns RC.OK, RC.BAD_MAGIC (magic), or RC.BAD_HEADER: record not 8-aligned or not inside the memory;
 * dtype not F64/F32; a size not an integer in [0, 2^31); a base or stride not an integer; beta not 0/1;
 * scratch not 16-aligned, too small or not inside the memory; an element an operand would touch outside
 * the memory (the extreme addresses are checked, so a bad stride is an RC, not a trap). Nothing is written
 * unless the record is valid. An operand with a dimension of 1 (or 0) may have any integer stride there.
 *
 * Canonical arithmetic, the contract that makes results bit-identical for any blocking, chunking, worker
 * or rank count, and between the wasm kernel and the JS twin (gemm-reference.ts): for every (i, j),
 *   acc = BETA ? C[i, j] : +0.0
 *   for k = 0 .. K-1, in increasing order: acc = acc + A[i, k] * B[k, j]   (product rounded, then the sum
 *     rounded: no FMA; in float64 for F64, in float32 for F32, as Math.fround(acc + Math.fround(a * b)))
 *   C[i, j] = acc
 * So splitting K into consecutive blocks, the first with BETA 0 (or 1) and the rest with BETA 1, gives
 * exactly the bits of one call. K = 0 with BETA 0 writes +0.0. NaN and infinities propagate as IEEE says
 * (NaN payloads may differ). The opt-in FMA build (TESSERA_GEMM=fma, wasm.ts) rounds once per step,
 * acc = fma(A[i, k], B[k, j], acc), keeping the same order: deterministic on one host, but not these bits.
 */
export const G = {
  MAGIC: 0,
  DTYPE: 1,
  M: 2,
  N: 3,
  K: 4,
  A: 5,
  A_ROW: 6,
  A_COL: 7,
  B: 8,
  B_ROW: 9,
  B_COL: 10,
  C: 11,
  C_ROW: 12,
  C_COL: 13,
  BETA: 14,
  SCRATCH: 15,
  SCRATCH_BYTES: 16,
} as const;
export const GEMM_WORDS = 17;
export const GEMM_MAGIC = 0x6e33a7c1;
/**
 * Scratch bytes a GEMM record must give (the kernel's packed A block, B panel and an edge tile: 96×512 and
 * 512×512 elements, 2.4 MiB; see assembly/abi.ts).
 */
export const GEMM_SCRATCH_BYTES = 2490880;
