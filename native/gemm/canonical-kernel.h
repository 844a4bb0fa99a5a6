// The canonical GEMM (src/kernels/abi.ts, "Canonical arithmetic"), natively: for every C element, products
// added in increasing k, each product and each sum rounded (no FMA: this file is compiled with
// -ffp-contract=off), so the bits are exactly the wasm kernel's and the JS twin's whatever the vector width.
// BLIS's loop nest, as assembly/gemm.ts: B's KC x NC panel and A's MC x KC block packed into micro-panels,
// then an MR x NR register tile per pair; across KC slices each sum continues through C itself.
//
// Included by canonical-avx512.cc, canonical-avx2.cc and canonical-sse2.cc, each compiled for its ISA with
// GEMM_ISA naming the namespace and GEMM_VBYTES the vector width; canonical.cc picks one at run time.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "canonical.h"

namespace tessera_gemm {
namespace GEMM_ISA {
namespace {

// GCC's vector extensions (the attribute cannot take a template parameter's type, hence one per type)
template <typename T>
struct Vectors;
template <>
struct Vectors<double> {
  typedef double aligned __attribute__((vector_size(GEMM_VBYTES)));
  typedef double unaligned __attribute__((vector_size(GEMM_VBYTES), aligned(8)));  // C tiles: any row address
};
template <>
struct Vectors<float> {
  typedef float aligned __attribute__((vector_size(GEMM_VBYTES)));
  typedef float unaligned __attribute__((vector_size(GEMM_VBYTES), aligned(4)));
};
template <typename T>
using Vec = typename Vectors<T>::aligned;
template <typename T>
using UVec = typename Vectors<T>::unaligned;

/** Tile shape: NV vectors of L lanes per row (NR = NV * L columns), MR rows; MR * NV accumulators. */
template <typename T>
struct Shape {
  static constexpr int L = GEMM_VBYTES / sizeof(T);
  static constexpr int NV = 2;
  static constexpr int NR = NV * L;
  // accumulators + 2 B vectors + 1 broadcast within the register file (32 zmm, 16 ymm / xmm)
  static constexpr int MR = GEMM_VBYTES == 64 ? 12 : GEMM_VBYTES == 32 ? 6 : 4;
  static constexpr int KC = 256;
  static constexpr int MC = 12 * 8;   // a multiple of every MR
  static constexpr int NC = 1024;     // a multiple of every NR
};

/** Every lane = s, exactly (a sum with a zero vector would turn -0 into +0). */
template <typename T>
inline Vec<T> Splat(T s) {
  Vec<T> v;
  for (int i = 0; i < Shape<T>::L; i++) v[i] = s;
  return v;
}

/** tile[r][0..NR) += A micro-panel (MR per k) x B micro-panel (NR per k), k = 0..kc-1; c rows ldc elements apart. */
template <typename T>
inline void Micro(int kc, const T* __restrict a, const T* __restrict b, T* __restrict c, int64_t ldc, bool loadC) {
  using S = Shape<T>;
  using V = Vec<T>;
  V acc[S::MR][S::NV];
  for (int r = 0; r < S::MR; r++)
    for (int v = 0; v < S::NV; v++) {
      if (loadC) acc[r][v] = *reinterpret_cast<const UVec<T>*>(c + r * ldc + v * S::L);
      else acc[r][v] = V{};  // +0.0: the canonical sum's start
    }
  for (int k = 0; k < kc; k++) {
    V b0 = *reinterpret_cast<const V*>(b), b1 = *reinterpret_cast<const V*>(b + S::L);
    for (int r = 0; r < S::MR; r++) {
      V x = Splat<T>(a[r]);
      acc[r][0] = acc[r][0] + x * b0;
      acc[r][1] = acc[r][1] + x * b1;
    }
    a += S::MR;
    b += S::NR;
  }
  for (int r = 0; r < S::MR; r++)
    for (int v = 0; v < S::NV; v++) *reinterpret_cast<UVec<T>*>(c + r * ldc + v * S::L) = acc[r][v];
}

/** Packs A's mc x kc block (element (i, k) at src[i * rs + k * cs]) into MR-row micro-panels, zero rows past mc. */
template <typename T>
void PackA(T* dst, const T* src, int64_t rs, int64_t cs, int mc, int kc) {
  constexpr int MR = Shape<T>::MR;
  for (int p = 0; p < mc; p += MR) {
    const int mr = std::min(MR, mc - p);
    const T* s = src + p * rs;
    for (int k = 0; k < kc; k++) {
      T* d = dst + k * MR;
      for (int r = 0; r < mr; r++) d[r] = s[r * rs + k * cs];
      for (int r = mr; r < MR; r++) d[r] = T(0);
    }
    dst += kc * MR;
  }
}

/** Packs B's kc x nc panel (element (k, j) at src[k * rs + j * cs]) into NR-column micro-panels, zero columns past nc. */
template <typename T>
void PackB(T* dst, const T* src, int64_t rs, int64_t cs, int nc, int kc) {
  constexpr int NR = Shape<T>::NR;
  for (int q = 0; q < nc; q += NR) {
    const int nr = std::min(NR, nc - q);
    const T* s = src + q * cs;
    for (int k = 0; k < kc; k++) {
      T* d = dst + k * NR;
      const T* row = s + k * rs;
      if (cs == 1 && nr == NR) std::memcpy(d, row, NR * sizeof(T));
      else {
        for (int j = 0; j < nr; j++) d[j] = row[j * cs];
        for (int j = nr; j < NR; j++) d[j] = T(0);
      }
    }
    dst += kc * NR;
  }
}

/** Per-thread packing buffers (the record's scratch is sized for the wasm kernel's blocks). */
template <typename T>
struct Buffers {
  std::vector<Vec<T>> a, b;
  Buffers()
      : a((Shape<T>::MC * Shape<T>::KC * sizeof(T)) / GEMM_VBYTES + 1),
        b(((Shape<T>::NC + Shape<T>::NR) * Shape<T>::KC * sizeof(T)) / GEMM_VBYTES + 1) {}
};

template <typename T>
void Run(const CanonicalArgs& g) {
  using S = Shape<T>;
  static thread_local Buffers<T> buf;
  T* pa = reinterpret_cast<T*>(buf.a.data());
  T* pb = reinterpret_cast<T*>(buf.b.data());
  alignas(GEMM_VBYTES) T tile[S::MR * S::NR] = {};  // lanes past an edge tile stay +0 (never NaN or denormal garbage)
  T* A = reinterpret_cast<T*>(g.a);
  T* B = reinterpret_cast<T*>(g.b);
  T* C = reinterpret_cast<T*>(g.c);
  const int64_t m = g.m, n = g.n, k = g.k;
  for (int64_t jc = 0; jc < n; jc += S::NC) {
    const int nc = static_cast<int>(std::min<int64_t>(S::NC, n - jc));
    for (int64_t pc = 0; pc < k; pc += S::KC) {
      const int kc = static_cast<int>(std::min<int64_t>(S::KC, k - pc));
      // the first K slice starts from C (beta 1) or +0.0 (beta 0); later slices continue from C
      const bool loadC = g.beta || pc > 0;
      PackB<T>(pb, B + pc * g.brs + jc * g.bcs, g.brs, g.bcs, nc, kc);
      for (int64_t ic = 0; ic < m; ic += S::MC) {
        const int mc = static_cast<int>(std::min<int64_t>(S::MC, m - ic));
        PackA<T>(pa, A + ic * g.ars + pc * g.acs, g.ars, g.acs, mc, kc);
        for (int jr = 0; jr < nc; jr += S::NR) {
          const int nr = std::min(S::NR, nc - jr);
          for (int ir = 0; ir < mc; ir += S::MR) {
            const int mr = std::min(S::MR, mc - ir);
            T* c = C + (ic + ir) * g.crs + (jc + jr) * g.ccs;
            const T* ap = pa + (ir / S::MR) * kc * S::MR;
            const T* bp = pb + (jr / S::NR) * kc * S::NR;
            if (mr == S::MR && nr == S::NR && g.ccs == 1) {
              Micro<T>(kc, ap, bp, c, g.crs, loadC);
              continue;
            }
            // an edge tile, or C without unit column stride: through a tile of our own
            if (loadC)
              for (int r = 0; r < mr; r++)
                for (int j = 0; j < nr; j++) tile[r * S::NR + j] = c[r * g.crs + j * g.ccs];
            Micro<T>(kc, ap, bp, tile, S::NR, loadC);
            for (int r = 0; r < mr; r++)
              for (int j = 0; j < nr; j++) c[r * g.crs + j * g.ccs] = tile[r * S::NR + j];
          }
        }
      }
    }
  }
}

}  // namespace

void Gemm(const CanonicalArgs& g) {
  if (g.f32) Run<float>(g);
  else Run<double>(g);
}

}  // namespace GEMM_ISA
}  // namespace tessera_gemm
