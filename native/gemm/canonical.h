// The native canonical GEMM's entry points (canonical-kernel.h, canonical.cc).
#pragma once
#include <cstdint>

namespace tessera_gemm {

/** One validated GEMM record: element strides, pointers into the kernel memory; m, n, k >= 1. */
struct CanonicalArgs {
  bool f32;
  int64_t m, n, k;
  void* a;
  int64_t ars, acs;
  void* b;
  int64_t brs, bcs;
  void* c;
  int64_t crs, ccs;
  bool beta;
};

namespace avx512 { void Gemm(const CanonicalArgs& g); }
namespace avx2 { void Gemm(const CanonicalArgs& g); }
namespace sse2 { void Gemm(const CanonicalArgs& g); }

/** The widest build this CPU runs: "avx512", "avx2" or "sse2"; `force` (one of those) when the CPU has it. */
const char* CanonicalIsa(const char* force);
void CanonicalGemm(const char* isa, const CanonicalArgs& g);

}  // namespace tessera_gemm
