// A program read and checked once (validate.cc) before the level-specific interpreter (interpreter.inc)
// runs it: header fields, the addresses of its parts, and the fused run found in it. Memory is the
// worker's WebAssembly.Memory: `mem` its base, `memLen` its byte length when run() was called.
#pragma once
#include <cstdint>
#include <cstring>

#include "abi.h"

namespace tk {

template <class T> inline T ld(const uint8_t* p) { T v; std::memcpy(&v, p, sizeof v); return v; }
template <class T> inline void st(uint8_t* p, T v) { std::memcpy(p, &v, sizeof v); }

struct Prog {
  uint8_t* mem;
  uint64_t memLen;
  int ndim, rowLen, nslots, ninstr, nconst, nregs, tile, nrandom;
  uint64_t extents, slots, code, consts, regs, scratch;  // byte addresses in mem
  int fusePc, fuseNext, fuseAcc;                          // the fused RANDOM -> [ADD|SUB k] -> RSUM run, or fusePc -1
  double fuseC;

  int word(int pc) const { return ld<int32_t>(mem + code + 4 * (uint64_t)pc); }
  double constant(int k) const { return ld<double>(mem + consts + 8 * (uint64_t)k); }
  uint64_t slotRec(int s) const { return slots + (uint64_t)s * (uint64_t)(4 + ndim) * 8; }
  double slotWord(int s, int w) const { return ld<double>(mem + slotRec(s) + 8 * (uint64_t)w); }
  int slotKind(int s) const { return (int)slotWord(s, S_KIND); }
  int slotDtype(int s) const { return (int)slotWord(s, S_DTYPE); }
  double slotBase(int s) const { return slotWord(s, S_BASE); }
  double slotLast(int s) const { return slotWord(s, S_LAST); }
  double slotRow(int s, int d) const { return slotWord(s, S_ROW + d); }
  int extent(int d) const { return ld<int32_t>(mem + extents + 4 * (uint64_t)d); }
  double* reg(int r) const { return (double*)(mem + regs + (uint64_t)r * (uint64_t)tile * 8); }
};

/**
 * Reads and checks the program at byte address prog: the RC codes of the wasm interpreter, in its order,
 * and RC_OUT_OF_BOUNDS where wasm would trap (any part of the program, its registers, scratch or any
 * element an instruction would touch outside [0, memLen)). `empty` is set when there is nothing to run.
 */
int validate(uint8_t* mem, uint64_t memLen, uint64_t prog, Prog& p, bool& empty);

}  // namespace tk
