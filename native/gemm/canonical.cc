// Picks the canonical GEMM build for this CPU once (every build gives the same bits: the vector width
// only changes how many C columns advance together).
#include <cstring>

#include "canonical.h"

namespace tessera_gemm {

const char* CanonicalIsa(const char* force) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f"), avx2 = __builtin_cpu_supports("avx2");
  if (force && *force) {
    if (!std::strcmp(force, "avx512")) return avx512 ? "avx512" : nullptr;
    if (!std::strcmp(force, "avx2")) return avx2 ? "avx2" : nullptr;
    if (!std::strcmp(force, "sse2")) return "sse2";
    return nullptr;
  }
  return avx512 ? "avx512" : avx2 ? "avx2" : "sse2";
}

void CanonicalGemm(const char* isa, const CanonicalArgs& g) {
  if (!std::strcmp(isa, "avx512")) avx512::Gemm(g);
  else if (!std::strcmp(isa, "avx2")) avx2::Gemm(g);
  else sse2::Gemm(g);
}

}  // namespace tessera_gemm
