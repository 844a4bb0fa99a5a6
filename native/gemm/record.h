// The GEMM record (src/kernels/abi.ts, "The GEMM record"), read and validated as assembly/gemm.ts does, so a
// bad record gets the same RC from every GEMM. Constants mirror abi.ts (test/kernels/native-gemm.test.mjs
// compares the addon's with it).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tessera_gemm {

enum { G_MAGIC, G_DTYPE, G_M, G_N, G_K, G_A, G_A_ROW, G_A_COL, G_B, G_B_ROW, G_B_COL, G_C, G_C_ROW, G_C_COL, G_BETA,
       G_SCRATCH, G_SCRATCH_BYTES, GEMM_WORDS };
constexpr double GEMM_MAGIC = 0x6e33a7c1;
constexpr double GEMM_SCRATCH_BYTES = 2490880;
constexpr int DT_F64 = 0, DT_F32 = 1;
constexpr int RC_OK = 0, RC_BAD_MAGIC = 1, RC_BAD_HEADER = 3;
/** Not an abi.ts code: the BLAS bridge leaves this record to the canonical kernel. */
constexpr int RC_FALLBACK = -1;

/** A valid record: sizes, byte offsets of the operands and the scratch, element strides. */
struct Record {
  bool f32;
  int64_t m, n, k;
  int64_t a, ars, acs, b, brs, bcs, c, crs, ccs;
  bool beta;
  int64_t scratch, scratchBytes;
};

inline bool IsInt(double x) { return std::fabs(x) <= 9007199254740992.0 && std::floor(x) == x; }

/** Whether the rows x cols operand at base (element strides rs, cs) lies inside [0, bytes). */
inline bool Inside(double base, double rows, double cols, double rs, double cs, double e, double bytes) {
  if (rows == 0 || cols == 0) return true;
  double di = rows > 1 ? (rows - 1) * rs : 0, dk = cols > 1 ? (cols - 1) * cs : 0;
  double lo = base + (std::fmin(di, 0) + std::fmin(dk, 0)) * e;
  double hi = base + (std::fmax(di, 0) + std::fmax(dk, 0)) * e + e;
  return lo >= 0 && hi <= bytes;
}

/** Reads the record at byte offset rec of a memory of `bytes` bytes: RC_OK and *out, or the RC of a bad record. */
inline int ReadRecord(const uint8_t* mem, double bytes, double rec, Record* out) {
  const double TWO31 = 2147483648.0;
  if (!IsInt(rec) || rec < 0 || std::fmod(rec, 8) != 0 || rec + GEMM_WORDS * 8 > bytes) return RC_BAD_HEADER;
  double w[GEMM_WORDS];
  std::memcpy(w, mem + static_cast<int64_t>(rec), sizeof w);
  if (w[G_MAGIC] != GEMM_MAGIC) return RC_BAD_MAGIC;
  const double dt = w[G_DTYPE];
  if (dt != DT_F64 && dt != DT_F32) return RC_BAD_HEADER;
  const double e = dt == DT_F64 ? 8 : 4;
  const double m = w[G_M], n = w[G_N], k = w[G_K];
  if (!(IsInt(m) && IsInt(n) && IsInt(k) && m >= 0 && n >= 0 && k >= 0 && m < TWO31 && n < TWO31 && k < TWO31)) return RC_BAD_HEADER;
  for (int i : {G_A, G_A_ROW, G_A_COL, G_B, G_B_ROW, G_B_COL, G_C, G_C_ROW, G_C_COL})
    if (!IsInt(w[i])) return RC_BAD_HEADER;
  const double beta = w[G_BETA];
  if (beta != 0 && beta != 1) return RC_BAD_HEADER;
  const double s = w[G_SCRATCH], sb = w[G_SCRATCH_BYTES];
  if (!(IsInt(s) && IsInt(sb) && s >= 0 && sb >= GEMM_SCRATCH_BYTES && s + GEMM_SCRATCH_BYTES <= bytes) || std::fmod(s, 16) != 0) return RC_BAD_HEADER;
  if (!Inside(w[G_A], m, k, w[G_A_ROW], w[G_A_COL], e, bytes) || !Inside(w[G_B], k, n, w[G_B_ROW], w[G_B_COL], e, bytes) ||
      !Inside(w[G_C], m, n, w[G_C_ROW], w[G_C_COL], e, bytes))
    return RC_BAD_HEADER;
  auto I = [&](int i) { return static_cast<int64_t>(w[i]); };
  *out = {dt == DT_F32, I(G_M), I(G_N), I(G_K), I(G_A), I(G_A_ROW), I(G_A_COL), I(G_B), I(G_B_ROW), I(G_B_COL), I(G_C), I(G_C_ROW), I(G_C_COL),
          beta != 0, I(G_SCRATCH), static_cast<int64_t>(std::fmin(sb, bytes - s))};
  return RC_OK;
}

/** Writes +0.0 over C (K = 0 with BETA 0: no products, the sum's start). */
template <typename T>
inline void ZeroC(uint8_t* mem, const Record& r) {
  T* c = reinterpret_cast<T*>(mem + r.c);
  for (int64_t i = 0; i < r.m; i++)
    for (int64_t j = 0; j < r.n; j++) c[(r.m > 1 ? i * r.crs : 0) + (r.n > 1 ? j * r.ccs : 0)] = T(0);
}

}  // namespace tessera_gemm
