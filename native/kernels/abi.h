// Mirror of src/kernels/abi.ts for the native interpreter (C++). test/kernels/native.test.mjs compares
// every number here (the addon exports them as `constants`) with the TS original, so they cannot drift.
#pragma once
#include <cstdint>

namespace tk {

// Header words (Int32 index from the program start)
constexpr int H_MAGIC = 0, H_NDIM = 1, H_ROWLEN = 2, H_NSLOTS = 3, H_NINSTR = 4, H_NCONST = 5, H_NREGS = 6,
              H_TILE = 7, H_EXTENTS = 8, H_SLOTS = 9, H_INSTR = 10, H_CONSTS = 11, H_REGS = 12, H_SCRATCH = 13,
              H_WORDS = 16;

constexpr uint32_t PROGRAM_MAGIC = 0x7e55e2a1;
constexpr int MAX_DIMS = 32, MAX_TILE = 4096, MAX_REGS = 64, SCRATCH_BYTES = 65536, RNG_BLOCK = 256;
constexpr int MAX_SLOTS = 1024, MAX_RANDOM_OPS = 96;

// Slot record (f64 words)
constexpr int S_KIND = 0, S_DTYPE = 1, S_BASE = 2, S_LAST = 3, S_ROW = 4;
constexpr int SLOT_MEM = 1, SLOT_INDEX = 2;
constexpr int DT_F64 = 0, DT_F32 = 1, DT_I32 = 2, DT_BOOL = 3;

enum Op : int {
  OP_END = 0, OP_IOTA = 1, OP_RANDOM = 2, OP_LOAD = 3, OP_CONST = 4,
  OP_NEG = 10, OP_ABS = 11, OP_SQRT = 12, OP_EXP = 13, OP_LOG = 14, OP_SIN = 15, OP_COS = 16, OP_TANH = 17,
  OP_FLOOR = 18, OP_CEIL = 19, OP_ROUND_F32 = 20, OP_WRAP_I32 = 21, OP_TRUNC_I32 = 22, OP_NOT = 23, OP_BOOL = 24,
  OP_ISNAN = 25, OP_TAN = 26, OP_ASIN = 27, OP_ACOS = 28, OP_ATAN = 29, OP_SINH = 30, OP_COSH = 31, OP_ASINH = 32,
  OP_ACOSH = 33, OP_ATANH = 34, OP_LOG1P = 35, OP_EXPM1 = 36, OP_LOG2 = 37, OP_LOG10 = 38, OP_EXP2 = 39,
  OP_SIGN = 40, OP_ISINF = 41, OP_ISFINITE = 42, OP_RINT = 43,
  OP_ADD = 50, OP_SUB = 51, OP_MUL = 52, OP_DIV = 53, OP_POW = 54, OP_MAX = 55, OP_MIN = 56, OP_EQ = 57,
  OP_NE = 58, OP_LT = 59, OP_LE = 60, OP_GT = 61, OP_GE = 62, OP_IMUL = 63, OP_ATAN2 = 64, OP_HYPOT = 65,
  OP_MOD = 66, OP_FLOORDIV = 67, OP_FMAX = 68, OP_FMIN = 69, OP_IMOD = 70, OP_IFLOORDIV = 71,
  OP_SELECT = 80,
  OP_STORE = 90, OP_RSUM = 91, OP_RPROD = 92, OP_RMIN = 93, OP_RMAX = 94, OP_RARGMIN = 95, OP_RARGMAX = 96,
  OP_RVAR = 97, OP_RNANARGMIN = 98, OP_RNANARGMAX = 99,
  OP_CUMSUM = 100, OP_CUMPROD = 101,
  OP_HIST = 110,
};

// HIST's parameter block and flags
constexpr int HIST_P_BINS = 0, HIST_P_FLAGS = 1, HIST_P_KEEP_LO = 2, HIST_P_KEEP_HI = 3, HIST_P_SUB_LO = 4,
              HIST_P_NORM = 5, HIST_P_START = 6, HIST_P_STEP = 7, HIST_P_DELTA = 8, HIST_P_STOP = 9, HIST_P_EDGES = 10;
constexpr int HF_F32_SUB = 1, HF_F32_MUL = 2, HF_F32_EDGES = 4, HF_STEP_ZERO = 8, HF_EDGES = 16;

// Return codes of run(); OUT_OF_BOUNDS is the native interpreter's answer where wasm would trap
constexpr int RC_OK = 0, RC_BAD_MAGIC = 1, RC_BAD_OPCODE = 2, RC_BAD_HEADER = 3, RC_OUT_OF_BOUNDS = 4;

// tileSum / tileProd: interleaved accumulators, folded in halves (abi.ts)
constexpr int TILE_SUM_LANES = 16;
constexpr int SUM_LANES = TILE_SUM_LANES;

inline bool isUnary(int op) { return op >= OP_NEG && op <= OP_RINT; }
inline bool isBinary(int op) { return op >= OP_ADD && op <= OP_IFLOORDIV; }

/** Number of argument words after the opcode, or -1 for an unknown opcode. */
inline int opArity(int op) {
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

inline int dtBytes(int dt) { return dt == DT_F64 ? 8 : dt == DT_BOOL ? 1 : 4; }

}  // namespace tk
