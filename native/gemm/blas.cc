// The BLAS bridge: runs a GEMM record (src/kernels/abi.ts, "The GEMM record") with an optimized BLAS
// found on the machine at run time, on the kernel memory of the calling worker thread.
//
// Why dlopen, not linking: the addon builds on any machine with a compiler (no BLAS headers or -dev
// package needed), loads on machines without OpenBLAS (the JS side then keeps the canonical wasm GEMM),
// and the library is chosen at run time: OpenBLAS's threaded build first (Debian's libopenblas0-pthread),
// told to use one thread (OPENBLAS_NUM_THREADS=1 before it loads, openblas_set_num_threads(1) after),
// because the pool already runs one GEMM per worker thread and a threaded build locks its buffers for
// concurrent callers; a serial build is thread-safe only when built with USE_LOCKING=1, which its
// configuration does not say, so it comes after. Only the cblas
// entry points are used, with prototypes declared here.
//
// Arithmetic: BLAS kernels use FMA and their own blocking, so the bits are not the canonical ones of abi.ts
// (and differ between CPUs and BLAS versions). They are fixed for one CPU, library and call shape: the
// single-threaded kernel is deterministic, and the engine's K blocking follows the operands' chunks, never
// the worker or rank count, so results agree across worker and rank counts on a given machine.
//
// Layouts: cblas needs each operand with one unit stride. A record operand with unit column stride is a
// row-major matrix; with unit row stride, the transpose of one; anything else (steps, negative or
// overlapping strides) is packed into the record's scratch first, and C is computed in the scratch and
// scattered when it has no unit stride. What does not fit in the scratch, or an address not aligned to
// the element size, returns FALLBACK and the caller runs the canonical kernel on the same record.
#include "blas.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <mutex>
#include <string>

namespace tessera_gemm {
namespace {

enum CblasOrder { CblasRowMajor = 101 };
enum CblasTranspose { CblasNoTrans = 111, CblasTrans = 112 };
using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);

struct Blas {
  void* handle = nullptr;
  Dgemm dgemm = nullptr;
  Sgemm sgemm = nullptr;
  BlasLibrary info;
};
Blas blas;  // loaded once per process (the library is process-wide; every worker thread shares it)

constexpr double TWO31 = 2147483648.0;

/** An operand as cblas takes it: a row-major matrix (or its transpose) with leading dimension ld. */
struct Operand {
  int64_t at;  // byte offset in the memory
  int ld;
  bool trans;  // stored as the row-major transpose of the logical rows x cols matrix
};

/**
 * The cblas view of a rows x cols operand with element strides (rs, cs), or false when it has none (it
 * must be packed). A dimension of 1 may have any stride; ld must be at least the stored row length.
 */
bool View(int64_t at, int64_t rows, int64_t cols, int64_t rs, int64_t cs, Operand* out) {
  if (rows <= 1) rs = cols > 1 ? cols : 1;
  if (cols <= 1) cs = 1;
  if (cs == 1 && rs >= (cols > 1 ? cols : 1) && rs < TWO31) {
    *out = {at, static_cast<int>(rs), false};
    return true;
  }
  if (cols <= 1) cs = rows > 1 ? rows : 1;
  if (rows <= 1) rs = 1;
  if (rs == 1 && cs >= (rows > 1 ? rows : 1) && cs < TWO31) {
    *out = {at, static_cast<int>(cs), true};
    return true;
  }
  return false;
}

template <typename T>
void Pack(const uint8_t* mem, int64_t at, int64_t rows, int64_t cols, int64_t rs, int64_t cs, T* dst) {
  const T* src = reinterpret_cast<const T*>(mem + at);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t k = 0; k < cols; k++) dst[i * cols + k] = src[i * rs + k * cs];
}

template <typename T>
void Scatter(uint8_t* mem, int64_t at, int64_t rows, int64_t cols, int64_t rs, int64_t cs, const T* src) {
  T* dst = reinterpret_cast<T*>(mem + at);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t k = 0; k < cols; k++) dst[i * rs + k * cs] = src[i * cols + k];
}

template <typename T>
void Call(int m, int n, int k, const T* a, const Operand& av, const T* b, const Operand& bv, T beta, T* c, int ldc) {
  const int ta = av.trans ? CblasTrans : CblasNoTrans, tb = bv.trans ? CblasTrans : CblasNoTrans;
  if constexpr (sizeof(T) == 8) blas.dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, av.ld, b, bv.ld, beta, c, ldc);
  else blas.sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, av.ld, b, bv.ld, beta, c, ldc);
}

template <typename T>
int Gemm(uint8_t* mem, const Record& r) {
  const int64_t m = r.m, n = r.n, k = r.k, a = r.a, ars = r.ars, acs = r.acs, b = r.b, brs = r.brs, bcs = r.bcs, c = r.c,
                crs = r.crs, ccs = r.ccs, scratch = r.scratch, scratchBytes = r.scratchBytes;
  const bool beta = r.beta;
  constexpr int64_t E = sizeof(T);
  if (a % E || b % E || c % E) return RC_FALLBACK;
  if (k == 0) {
    // no products: C = +0.0 (BETA 0) or unchanged, as the canonical kernel (no BLAS call for an empty K)
    if (!beta) {
      T* cp = reinterpret_cast<T*>(mem + c);
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) cp[(m > 1 ? i * crs : 0) + (n > 1 ? j * ccs : 0)] = T(0);
    }
    return RC_OK;
  }
  int64_t used = 0;  // bytes of scratch taken by packed operands
  auto take = [&](int64_t elements, int64_t* at) {
    // sizes up to 2^31 each: m * k elements may not fit the scratch by far, nor elements * E in 64 bits
    if (elements < 0 || elements > (scratchBytes - used - 63) / E) return false;
    int64_t bytes = (elements * E + 63) & ~int64_t{63};
    if (used + bytes > scratchBytes) return false;
    *at = scratch + used;
    used += bytes;
    return true;
  };
  Operand av, bv;
  if (!View(a, m, k, ars, acs, &av)) {
    int64_t at;
    if (!take(m * k, &at)) return RC_FALLBACK;
    Pack<T>(mem, a, m, k, ars, acs, reinterpret_cast<T*>(mem + at));
    av = {at, static_cast<int>(k > 1 ? k : 1), false};
  }
  if (!View(b, k, n, brs, bcs, &bv)) {
    int64_t at;
    if (!take(k * n, &at)) return RC_FALLBACK;
    Pack<T>(mem, b, k, n, brs, bcs, reinterpret_cast<T*>(mem + at));
    bv = {at, static_cast<int>(n > 1 ? n : 1), false};
  }
  const T* ap = reinterpret_cast<const T*>(mem + av.at);
  const T* bp = reinterpret_cast<const T*>(mem + bv.at);
  const T betaT = beta ? T(1) : T(0);
  Operand cv;
  if (View(c, m, n, crs, ccs, &cv)) {
    T* cp = reinterpret_cast<T*>(mem + cv.at);
    if (!cv.trans) {
      Call<T>(m, n, k, ap, av, bp, bv, betaT, cp, cv.ld);
    } else {
      // C stored as its row-major transpose: C^T = B^T A^T, the operands swapped and their flags flipped
      Operand bt{bv.at, bv.ld, !bv.trans}, at{av.at, av.ld, !av.trans};
      Call<T>(n, m, k, bp, bt, ap, at, betaT, cp, cv.ld);
    }
    return RC_OK;
  }
  int64_t ct;
  if (!take(m * n, &ct)) return RC_FALLBACK;
  T* cs = reinterpret_cast<T*>(mem + ct);
  if (beta) Pack<T>(mem, c, m, n, crs, ccs, cs);
  Call<T>(m, n, k, ap, av, bp, bv, betaT, cs, n);
  Scatter<T>(mem, c, m, n, crs, ccs, cs);
  return RC_OK;
}

}  // namespace

const BlasLibrary* LoadBlas(const std::vector<std::string>& paths) {
  // every worker thread loads it: one at a time, and the library stays once one has loaded it
  static std::mutex loading;
  std::lock_guard<std::mutex> hold(loading);
  for (size_t i = 0; i < paths.size() && !blas.handle; i++) {
    // a threaded OpenBLAS starts no thread pool of its own when told so before it loads (the pool runs
    // one call per worker thread); threaded builds also lock their buffers, so concurrent calls are safe
    if (!getenv("OPENBLAS_NUM_THREADS")) setenv("OPENBLAS_NUM_THREADS", "1", 0);
    void* h = dlopen(paths[i].c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    auto d = reinterpret_cast<Dgemm>(dlsym(h, "cblas_dgemm"));
    auto s = reinterpret_cast<Sgemm>(dlsym(h, "cblas_sgemm"));
    if (!d || !s) {
      dlclose(h);
      continue;
    }
    // a threaded OpenBLAS: one thread per call (the pool supplies the parallelism)
    if (auto threads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"))) threads(1);
    auto corename = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
    auto config = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_config"));
    blas = {h, d, s, {paths[i], corename ? corename() : "", config ? config() : ""}};
  }
  return blas.handle ? &blas.info : nullptr;
}

int BlasGemm(uint8_t* mem, const Record& r) {
  if (r.m == 0 || r.n == 0) return RC_OK;
  return r.f32 ? Gemm<float>(mem, r) : Gemm<double>(mem, r);
}

}  // namespace tessera_gemm
