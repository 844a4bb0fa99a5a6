// Mirror of src/kernels/abi.ts for the AssemblyScript side (AssemblyScript cannot compile that file's
// `as const` objects). test/kernels/abi.test.mjs checks that every number here equals the TS original.

// Header words (Int32 index from the program start)
export const H_MAGIC = 0;
export const H_NDIM = 1;
export const H_ROWLEN = 2;
export const H_NSLOTS = 3;
export const H_NINSTR = 4;
export const H_NCONST = 5;
export const H_NREGS = 6;
export const H_TILE = 7;
export const H_EXTENTS = 8;
export const H_SLOTS = 9;
export const H_INSTR = 10;
export const H_CONSTS = 11;
export const H_REGS = 12;
export const H_SCRATCH = 13;

export const PROGRAM_MAGIC: u32 = 0x7e55e2a1;
export const MAX_DIMS = 32;
export const MAX_TILE = 4096;
export const MAX_REGS = 64;
export const SCRATCH_BYTES = 65536;
export const RNG_BLOCK = 256;
export const TILE_SUM_LANES = 16;

// Slot record (f64 words)
export const S_KIND = 0;
export const S_DTYPE = 1;
export const S_BASE = 2;
export const S_LAST = 3;
export const S_ROW = 4;
export const SLOT_MEM = 1;
export const SLOT_INDEX = 2;

export const DT_F64 = 0;
export const DT_F32 = 1;
export const DT_I32 = 2;
export const DT_BOOL = 3;

export const OP_END = 0;
export const OP_IOTA = 1;
export const OP_RANDOM = 2;
export const OP_LOAD = 3;
export const OP_CONST = 4;
export const OP_NEG = 10;
export const OP_ABS = 11;
export const OP_SQRT = 12;
export const OP_EXP = 13;
export const OP_LOG = 14;
export const OP_SIN = 15;
export const OP_COS = 16;
export const OP_TANH = 17;
export const OP_FLOOR = 18;
export const OP_CEIL = 19;
export const OP_ROUND_F32 = 20;
export const OP_WRAP_I32 = 21;
export const OP_TRUNC_I32 = 22;
export const OP_NOT = 23;
export const OP_BOOL = 24;
export const OP_ISNAN = 25;
export const OP_TAN = 26;
export const OP_ASIN = 27;
export const OP_ACOS = 28;
export const OP_ATAN = 29;
export const OP_SINH = 30;
export const OP_COSH = 31;
export const OP_ASINH = 32;
export const OP_ACOSH = 33;
export const OP_ATANH = 34;
export const OP_LOG1P = 35;
export const OP_EXPM1 = 36;
export const OP_LOG2 = 37;
export const OP_LOG10 = 38;
export const OP_EXP2 = 39;
export const OP_SIGN = 40;
export const OP_ISINF = 41;
export const OP_ISFINITE = 42;
export const OP_RINT = 43;
export const OP_ADD = 50;
export const OP_SUB = 51;
export const OP_MUL = 52;
export const OP_DIV = 53;
export const OP_POW = 54;
export const OP_MAX = 55;
export const OP_MIN = 56;
export const OP_EQ = 57;
export const OP_NE = 58;
export const OP_LT = 59;
export const OP_LE = 60;
export const OP_GT = 61;
export const OP_GE = 62;
export const OP_IMUL = 63;
export const OP_ATAN2 = 64;
export const OP_HYPOT = 65;
export const OP_MOD = 66;
export const OP_FLOORDIV = 67;
export const OP_FMAX = 68;
export const OP_FMIN = 69;
export const OP_IMOD = 70;
export const OP_IFLOORDIV = 71;
export const OP_SELECT = 80;
export const OP_STORE = 90;
export const OP_RSUM = 91;
export const OP_RPROD = 92;
export const OP_RMIN = 93;
export const OP_RMAX = 94;
export const OP_RARGMIN = 95;
export const OP_RARGMAX = 96;
export const OP_RVAR = 97;
export const OP_RNANARGMIN = 98;
export const OP_RNANARGMAX = 99;
export const OP_CUMSUM = 100;
export const OP_CUMPROD = 101;
export const OP_HIST = 110;

// HIST's parameter block (offsets from its first constant) and flags
export const HIST_P_BINS = 0;
export const HIST_P_FLAGS = 1;
export const HIST_P_KEEP_LO = 2;
export const HIST_P_KEEP_HI = 3;
export const HIST_P_SUB_LO = 4;
export const HIST_P_NORM = 5;
export const HIST_P_START = 6;
export const HIST_P_STEP = 7;
export const HIST_P_DELTA = 8;
export const HIST_P_STOP = 9;
export const HIST_P_EDGES = 10;
export const HF_F32_SUB = 1;
export const HF_F32_MUL = 2;
export const HF_F32_EDGES = 4;
export const HF_STEP_ZERO = 8;
export const HF_EDGES = 16;

export const RC_OK = 0;
export const RC_BAD_MAGIC = 1;
export const RC_BAD_OPCODE = 2;
export const RC_BAD_HEADER = 3;
export const RC_OUT_OF_BOUNDS = 4; // native only (wasm traps instead)

// ---- Interpreter-private layout of the SCRATCH area (bytes from H_SCRATCH); the JS twin uses the same limits.
export const SC_IDX = 0; // i32[MAX_DIMS]: the row odometer
export const SC_CONST_A = 128; // 4 x f64: a splatted constant operand (binary a / select a)
export const SC_CONST_B = 160; // 4 x f64: b operand
export const SC_ROWOFF = 256; // f64[MAX_SLOTS]: each slot's row offset sum_d(i_d * row_d) for the current row
export const MAX_SLOTS = 1024;
export const SC_ALIAS = 8448; // usize[MAX_REGS]: where each register's values are read (see runTile)
export const SC_RNG = 16384; // RNG lane-state records, one per RANDOM instruction in program order
export const RNG_REC_BYTES = 512;
export const MAX_RANDOM_OPS = (SCRATCH_BYTES - SC_RNG) / RNG_REC_BYTES; // 96

/** Unary opcodes are NEG..RINT, binary ADD..IFLOORDIV (each range has no gaps). */
// @ts-ignore: decorator
@inline export function isUnary(op: i32): bool {
  return op >= OP_NEG && op <= OP_RINT;
}
// @ts-ignore: decorator
@inline export function isBinary(op: i32): bool {
  return op >= OP_ADD && op <= OP_IFLOORDIV;
}

/** Number of argument words after the opcode, or -1 for an unknown opcode. */
export function opArity(op: i32): i32 {
  if (op == OP_IOTA || op == OP_LOAD || op == OP_CONST) return 2;
  if (op == OP_RANDOM) return 4;
  if (isUnary(op)) return 2;
  if (isBinary(op)) return 4;
  if (op == OP_SELECT) return 5;
  if (op == OP_STORE || (op >= OP_RSUM && op <= OP_RMAX) || op == OP_RVAR) return 2;
  if (op == OP_RARGMIN || op == OP_RARGMAX || op == OP_RNANARGMIN || op == OP_RNANARGMAX) return 3;
  if (op == OP_CUMSUM || op == OP_CUMPROD) return 3;
  if (op == OP_HIST) return 4;
  return -1;
}

/** Bytes per element of a storage dtype. */
// @ts-ignore: decorator
@inline export function dtBytes(dt: i32): usize {
  return dt == DT_F64 ? 8 : dt == DT_BOOL ? 1 : 4;
}

// ---- The GEMM record (f64 words from the record's address; src/kernels/abi.ts: G)
export const GEMM_MAGIC: u32 = 0x6e33a7c1;
export const GEMM_WORDS = 17;
export const G_MAGIC = 0;
export const G_DTYPE = 1;
export const G_M = 2;
export const G_N = 3;
export const G_K = 4;
export const G_A = 5;
export const G_A_ROW = 6;
export const G_A_COL = 7;
export const G_B = 8;
export const G_B_ROW = 9;
export const G_B_COL = 10;
export const G_C = 11;
export const G_C_ROW = 12;
export const G_C_COL = 13;
export const G_BETA = 14;
export const G_SCRATCH = 15;
export const G_SCRATCH_BYTES = 16;

// ---- GEMM kernel-private blocking (assembly/gemm.ts) and the layout of its scratch; the test checks that
// GEMM_SCRATCH_BYTES (src/kernels/abi.ts) holds it. Element counts, the same for f64 and f32.
export const GEMM_MR = 6; // microkernel rows
export const GEMM_NV = 2; // microkernel vectors per row: 4 f64 or 8 f32 columns
export const GEMM_KC = 512; // depth of a packed slice of K (A and B micro-panels: 24 + 16 KiB, in a 48 KiB L1)
export const GEMM_MC = 96; // rows of a packed block of A (a multiple of GEMM_MR)
export const GEMM_NC = 512; // columns of a packed panel of B (a multiple of 8)
export const GEMM_SC_A = 0; // packed A block: GEMM_MC * GEMM_KC elements
export const GEMM_SC_B = 393216; // packed B panel: GEMM_KC * GEMM_NC elements
export const GEMM_SC_TILE = 2490368; // one MR x NR tile for edges and strided C
export const GEMM_SCRATCH_BYTES = 2490880;
