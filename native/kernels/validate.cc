// Program checks of the native interpreter: the same checks and RC codes as assembly/interpreter.ts
// (runProgram, checkInstr, checkHist, findFusion), plus the bounds the wasm engine would enforce by
// trapping: every slot an instruction uses is checked at its extreme addresses over all rows and tiles
// before anything runs, so a bad program is an RC, never a stray access.
#include <cmath>
#include <initializer_list>

#include "program.h"

namespace tk {
namespace {

bool slotIs(const Prog& p, int kind, int s) { return (uint32_t)s < (uint32_t)p.nslots && p.slotKind(s) == kind; }
bool operandOk(int w, bool isConst, int nregs, int nconst) { return isConst ? (uint32_t)w < (uint32_t)nconst : (uint32_t)w < (uint32_t)nregs; }

int checkHist(const Prog& p, int pc) {
  const int w = p.word(pc + 2), s = p.word(pc + 3), k = p.word(pc + 4);
  if (w != -1 && (uint32_t)w >= (uint32_t)p.nregs) return RC_BAD_OPCODE;
  if (!slotIs(p, SLOT_MEM, s) || p.slotDtype(s) != DT_F64) return RC_BAD_OPCODE;
  if (k < 0 || (int64_t)k + HIST_P_EDGES > (int64_t)p.nconst) return RC_BAD_OPCODE;
  const double n = p.constant(k + HIST_P_BINS), flags = p.constant(k + HIST_P_FLAGS);
  if (!(n >= 1 && n <= 2147483647.0) || n != std::floor(n) || !(flags >= 0 && flags < 32) || flags != std::floor(flags)) return RC_BAD_OPCODE;
  if (((int)flags & HF_EDGES) != 0 && (int64_t)k + HIST_P_EDGES + (int64_t)n + 1 > (int64_t)p.nconst) return RC_BAD_OPCODE;
  return RC_OK;
}

int checkInstr(const Prog& p, int op, int pc) {
  const int w1 = p.word(pc + 1), w2 = p.word(pc + 2), w3 = p.word(pc + 3);
  const int nregs = p.nregs, nconst = p.nconst;
  if ((uint32_t)w1 >= (uint32_t)nregs) return RC_BAD_OPCODE;
  if (op == OP_IOTA) return slotIs(p, SLOT_INDEX, w2) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_RANDOM) {
    if (!slotIs(p, SLOT_INDEX, w2) || (uint32_t)w3 > 1) return RC_BAD_OPCODE;
    const int k = p.word(pc + 4);
    if ((uint32_t)k >= (uint32_t)nconst || (uint32_t)(k + 1) >= (uint32_t)nconst) return RC_BAD_OPCODE;
    return p.slotLast(w2) == 1 ? RC_OK : RC_BAD_HEADER;
  }
  if (op == OP_LOAD) return slotIs(p, SLOT_MEM, w2) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_CONST) return (uint32_t)w2 < (uint32_t)nconst ? RC_OK : RC_BAD_OPCODE;
  if (isUnary(op)) return (uint32_t)w2 < (uint32_t)nregs ? RC_OK : RC_BAD_OPCODE;
  if (isBinary(op)) {
    const int mode = p.word(pc + 4);
    if ((uint32_t)mode > 3) return RC_BAD_OPCODE;
    return operandOk(w2, (mode & 1) != 0, nregs, nconst) && operandOk(w3, (mode & 2) != 0, nregs, nconst) ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_SELECT) {
    const int w4 = p.word(pc + 4), mode = p.word(pc + 5);
    if ((uint32_t)mode > 3 || (uint32_t)w2 >= (uint32_t)nregs) return RC_BAD_OPCODE;
    return operandOk(w3, (mode & 1) != 0, nregs, nconst) && operandOk(w4, (mode & 2) != 0, nregs, nconst) ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_STORE || (op >= OP_RSUM && op <= OP_RMAX)) return slotIs(p, SLOT_MEM, w2) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_CUMSUM || op == OP_CUMPROD) {
    if ((uint32_t)w2 >= (uint32_t)nregs || !slotIs(p, SLOT_MEM, w3)) return RC_BAD_OPCODE;
    const int dt = p.slotDtype(w3);
    return dt == DT_F64 || dt == DT_F32 ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_HIST) return checkHist(p, pc);
  if (op == OP_RARGMIN || op == OP_RARGMAX || op == OP_RNANARGMIN || op == OP_RNANARGMAX) {
    return slotIs(p, SLOT_MEM, w2) && slotIs(p, SLOT_MEM, w2 + 1) && slotIs(p, SLOT_INDEX, w3) ? RC_OK : RC_BAD_OPCODE;
  }
  return slotIs(p, SLOT_MEM, w2) && slotIs(p, SLOT_MEM, w2 + 1) && slotIs(p, SLOT_MEM, w2 + 2) ? RC_OK : RC_BAD_OPCODE;
}

bool touches(const Prog& p, int pc, int r) {
  const int op = p.word(pc);
  if (p.word(pc + 1) == r) return true;
  if (isUnary(op)) return p.word(pc + 2) == r;
  if (isBinary(op)) {
    const int mode = p.word(pc + 4);
    return ((mode & 1) == 0 && p.word(pc + 2) == r) || ((mode & 2) == 0 && p.word(pc + 3) == r);
  }
  if (op == OP_CUMSUM || op == OP_CUMPROD || op == OP_HIST) return p.word(pc + 2) == r;
  if (op == OP_SELECT) {
    const int mode = p.word(pc + 5);
    return p.word(pc + 2) == r || ((mode & 1) == 0 && p.word(pc + 3) == r) || ((mode & 2) == 0 && p.word(pc + 4) == r);
  }
  return false;
}

bool exactSum(double a, double b) {
  const double s = a + b;
  if (!std::isfinite(s)) return false;
  const double bp = s - a;
  const double ap = s - bp;
  return (a - ap) + (b - bp) == 0;
}

void findFusion(Prog& p) {
  p.fusePc = -1;
  int pc = 0;
  while (p.word(pc) != OP_END) {
    const int start = pc;
    pc += 1 + opArity(p.word(pc));
    if (p.word(start) != OP_RANDOM || p.word(start + 3) != 0) continue;
    const int r = p.word(start + 1);
    int at = pc;
    double c = -1.0;
    const int op = p.word(at);
    if (op == OP_ADD || op == OP_SUB) {
      const int m = p.word(at + 4);
      if (p.word(at + 1) != r || (m != 1 && m != 2) || (op == OP_SUB && m != 2)) continue;
      if (p.word(at + (m == 2 ? 2 : 3)) != r) continue;
      const double k = p.constant(p.word(at + (m == 2 ? 3 : 2)));
      if (op == OP_ADD) {
        if (!exactSum(k, -1.0)) continue;
        c = k - 1.0;
      } else {
        if (!exactSum(k, 1.0)) continue;
        c = -(1.0 + k);
      }
      at += 5;
    }
    if (p.word(at) != OP_RSUM || p.word(at + 1) != r) continue;
    const int acc = p.word(at + 2);
    if (p.slotLast(acc) != 0) continue;
    const int next = at + 3;
    bool clean = true;
    for (int q = 0; p.word(q) != OP_END; q += 1 + opArity(p.word(q))) {
      if ((q < start || q >= next) && touches(p, q, r)) { clean = false; break; }
    }
    if (!clean) continue;
    p.fusePc = start;
    p.fuseNext = next;
    p.fuseAcc = acc;
    p.fuseC = c;
    return;
  }
}

bool inMem(const Prog& p, uint64_t at, uint64_t bytes) { return at <= p.memLen && bytes <= p.memLen - at; }

/**
 * Bounds of what a sink or LOAD touches in MEM slot s: per tile at column c0 (length len) the bytes
 * [pos(c0), pos(c0) + perLen * len + fixed), pos(c0) = base + (rowOff + c0 * last) * dtBytes as the
 * interpreter computes it. pos is affine in the row indices and in c0, so the extremes are at the extreme
 * rows and at the first, second-to-last and last tiles.
 */
struct Geometry { double rowMin, rowMax; int tiles[3]; int ntiles; };

bool tileRangeOk(const Prog& p, const Geometry& g, int s, double perLen, double fixed) {
  const double bytes = dtBytes(p.slotDtype(s)), base = p.slotBase(s), last = p.slotLast(s);
  for (int t = 0; t < g.ntiles; t++) {
    const int c0 = g.tiles[t], len = c0 + p.tile < p.rowLen ? p.tile : p.rowLen - c0;
    for (double row : {g.rowMin, g.rowMax}) {
      const double pos = base + (row + (double)c0 * last) * bytes;
      if (!(pos >= 0 && pos + perLen * len + fixed <= (double)p.memLen)) return false;  // NaN fails too
    }
  }
  return true;
}

/** A strided LOAD reads the element at pos(c) for every column c: extremes at c = 0 and rowLen - 1. */
bool elementRangeOk(const Prog& p, const Geometry& g, int s) {
  const double bytes = dtBytes(p.slotDtype(s)), base = p.slotBase(s), last = p.slotLast(s);
  if (std::trunc(last) != last) return false;  // the gather steps by (integer) last * dtBytes
  for (double c : {0.0, (double)(p.rowLen - 1)}) {
    for (double row : {g.rowMin, g.rowMax}) {
      const double pos = base + (row + c * last) * bytes;
      if (!(pos >= 0 && pos + bytes <= (double)p.memLen)) return false;
    }
  }
  return true;
}

int checkBounds(const Prog& p) {
  if (!inMem(p, p.regs, (uint64_t)p.nregs * p.tile * 8) || !inMem(p, p.scratch, SCRATCH_BYTES)) return RC_OUT_OF_BOUNDS;
  const int ntiles = (p.rowLen + p.tile - 1) / p.tile;
  Geometry g{0, 0, {0, (ntiles - 2) * p.tile, (ntiles - 1) * p.tile}, ntiles >= 2 ? 3 : 1};
  if (ntiles == 2) g.tiles[1] = 0;
  for (int pc = 0; p.word(pc) != OP_END; pc += 1 + opArity(p.word(pc))) {
    const int op = p.word(pc), w2 = p.word(pc + 2), w3 = p.word(pc + 3);
    auto ok = [&](int s, double perLen, double fixed) {
      g.rowMin = g.rowMax = 0;
      for (int d = 0; d < p.ndim; d++) {
        const double v = (double)(p.extent(d) - 1) * p.slotRow(s, d);
        if (v < 0) g.rowMin += v; else g.rowMax += v;
      }
      return tileRangeOk(p, g, s, perLen, fixed);
    };
    bool good = true;
    if (op == OP_LOAD) {
      const double last = p.slotLast(w2), bytes = dtBytes(p.slotDtype(w2));
      if (last == 0) good = ok(w2, 0, bytes);
      else if (last == 1) good = ok(w2, bytes, 0);
      else { ok(w2, 0, 0); good = elementRangeOk(p, g, w2); }
    } else if (op == OP_STORE) {
      const double bytes = dtBytes(p.slotDtype(w2));
      good = p.slotLast(w2) == 0 ? ok(w2, 0, bytes) : ok(w2, bytes, 0);
    } else if (op >= OP_RSUM && op <= OP_RMAX) {
      good = p.slotLast(w2) == 0 ? ok(w2, 0, 8) : ok(w2, 8, 0);
    } else if (op == OP_RARGMIN || op == OP_RARGMAX || op == OP_RNANARGMIN || op == OP_RNANARGMAX) {
      const bool scalar = p.slotLast(w2) == 0;
      good = ok(w2, scalar ? 0 : 8, scalar ? 8 : 0) && ok(w2 + 1, scalar ? 0 : 8, scalar ? 8 : 0);
    } else if (op == OP_RVAR) {
      const bool scalar = p.slotLast(w2) == 0;
      for (int j = 0; j < 3; j++) good = good && ok(w2 + j, scalar ? 0 : 8, scalar ? 8 : 0);
    } else if (op == OP_CUMSUM || op == OP_CUMPROD) {
      const double bytes = dtBytes(p.slotDtype(w3));
      good = p.slotLast(w3) != 0 ? ok(w3, bytes, 0) : ok(w3, 0, bytes);
    } else if (op == OP_HIST) {
      good = ok(w3, 0, 8 * p.constant(p.word(pc + 4) + HIST_P_BINS));
    }
    if (!good) return RC_OUT_OF_BOUNDS;
  }
  return RC_OK;
}

}  // namespace

int validate(uint8_t* mem, uint64_t memLen, uint64_t prog, Prog& p, bool& empty) {
  p.mem = mem;
  p.memLen = memLen;
  if (!inMem(p, prog, H_WORDS * 4)) return RC_OUT_OF_BOUNDS;
  const uint8_t* h = mem + prog;
  auto hw = [&](int i) { return ld<int32_t>(h + 4 * i); };
  if ((uint32_t)hw(H_MAGIC) != PROGRAM_MAGIC) return RC_BAD_MAGIC;
  p.ndim = hw(H_NDIM);
  p.rowLen = hw(H_ROWLEN);
  p.nslots = hw(H_NSLOTS);
  p.ninstr = hw(H_NINSTR);
  p.nconst = hw(H_NCONST);
  p.nregs = hw(H_NREGS);
  p.tile = hw(H_TILE);
  if ((uint32_t)p.ndim > (uint32_t)MAX_DIMS || p.rowLen < 0 || (uint32_t)p.nslots > (uint32_t)MAX_SLOTS || p.ninstr < 1 || p.nconst < 0) return RC_BAD_HEADER;
  if ((uint32_t)p.nregs > (uint32_t)MAX_REGS || p.tile < 4 || p.tile > MAX_TILE || (p.tile & 3) != 0) return RC_BAD_HEADER;
  p.extents = prog + (uint32_t)hw(H_EXTENTS);
  p.slots = prog + (uint32_t)hw(H_SLOTS);
  p.code = prog + (uint32_t)hw(H_INSTR);
  p.consts = prog + (uint32_t)hw(H_CONSTS);
  p.regs = (uint32_t)hw(H_REGS);
  p.scratch = (uint32_t)hw(H_SCRATCH);
  if (!inMem(p, p.extents, 4 * (uint64_t)p.ndim) || !inMem(p, p.slots, (uint64_t)p.nslots * (4 + p.ndim) * 8) ||
      !inMem(p, p.code, 4 * (uint64_t)p.ninstr) || !inMem(p, p.consts, 8 * (uint64_t)p.nconst)) {
    return RC_OUT_OF_BOUNDS;
  }
  empty = p.rowLen == 0;
  for (int d = 0; d < p.ndim; d++) {
    const int e = p.extent(d);
    if (e < 0) return RC_BAD_HEADER;
    if (e == 0) empty = true;
  }
  for (int s = 0; s < p.nslots; s++) {
    const int kind = p.slotKind(s);
    if (kind != SLOT_MEM && kind != SLOT_INDEX) return RC_BAD_HEADER;
    if (kind == SLOT_MEM && (uint32_t)p.slotDtype(s) > 3) return RC_BAD_HEADER;
  }
  int pc = 0, nrandom = 0;
  while (true) {
    if (pc >= p.ninstr) return RC_BAD_OPCODE;
    const int op = p.word(pc);
    if (op == OP_END) break;
    const int arity = opArity(op);
    if (arity < 0 || pc + arity >= p.ninstr) return RC_BAD_OPCODE;
    const int rc = checkInstr(p, op, pc);
    if (rc != RC_OK) return rc;
    if (op == OP_RANDOM) nrandom++;
    pc += 1 + arity;
  }
  if (nrandom > MAX_RANDOM_OPS) return RC_BAD_HEADER;
  p.nrandom = nrandom;
  if (empty) return RC_OK;
  const int rc = checkBounds(p);
  if (rc != RC_OK) return rc;
  findFusion(p);
  return RC_OK;
}

}  // namespace tk
