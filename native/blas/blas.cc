// tessera's BLAS bridge: runs a GEMM record (src/kernels/abi.ts, "The GEMM record") with an optimized BLAS
// found on the machine at run time, on the kernel memory of the calling worker thread.
//
// Why dlopen, not linking: the addon builds on any machine with a compiler (no BLAS headers or -dev
// package needed), loads on machines without OpenBLAS (the JS side then keeps the canonical wasm GEMM),
// and the library is chosen at run time: OpenBLAS's single-threaded build first (Debian's
// libopenblas0-serial), because the pool already runs one GEMM per worker thread; a threaded build is
// used only with openblas_set_num_threads(1), so a call never spawns threads of its own. Only the cblas
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
#include <napi.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// src/kernels/abi.ts: G, GEMM_WORDS, GEMM_MAGIC, GEMM_SCRATCH_BYTES, DT, RC (checked by test/kernels/blas.test.mjs)
enum { G_MAGIC, G_DTYPE, G_M, G_N, G_K, G_A, G_A_ROW, G_A_COL, G_B, G_B_ROW, G_B_COL, G_C, G_C_ROW, G_C_COL, G_BETA,
       G_SCRATCH, G_SCRATCH_BYTES, GEMM_WORDS };
constexpr double GEMM_MAGIC = 0x6e33a7c1;
constexpr double GEMM_SCRATCH_BYTES = 2490880;
constexpr int DT_F64 = 0, DT_F32 = 1;
constexpr int RC_OK = 0, RC_BAD_MAGIC = 1, RC_BAD_HEADER = 3;
/** Not an abi.ts code: this record is left to the canonical kernel. */
constexpr int RC_FALLBACK = -1;
constexpr double TWO31 = 2147483648.0, TWO53 = 9007199254740992.0;

enum CblasOrder { CblasRowMajor = 101 };
enum CblasTranspose { CblasNoTrans = 111, CblasTrans = 112 };
using Dgemm = void (*)(int, int, int, int, int, int, double, const double*, int, const double*, int, double, double*, int);
using Sgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);

struct Blas {
  void* handle = nullptr;
  Dgemm dgemm = nullptr;
  Sgemm sgemm = nullptr;
  std::string library, corename, config;
};
Blas blas;  // loaded once per process (the library is process-wide; every worker thread shares it)

bool IsInt(double x) { return std::fabs(x) <= TWO53 && std::floor(x) == x; }

/** Whether the rows x cols operand at base (element strides rs, cs) lies inside [0, bytes): as assembly/gemm.ts. */
bool Inside(double base, double rows, double cols, double rs, double cs, double e, double bytes) {
  if (rows == 0 || cols == 0) return true;
  double di = rows > 1 ? (rows - 1) * rs : 0, dk = cols > 1 ? (cols - 1) * cs : 0;
  double lo = base + (std::fmin(di, 0) + std::fmin(dk, 0)) * e;
  double hi = base + (std::fmax(di, 0) + std::fmax(dk, 0)) * e + e;
  return lo >= 0 && hi <= bytes;
}

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
int Gemm(uint8_t* mem, int64_t m, int64_t n, int64_t k, int64_t a, int64_t ars, int64_t acs, int64_t b, int64_t brs,
         int64_t bcs, int64_t c, int64_t crs, int64_t ccs, bool beta, int64_t scratch, int64_t scratchBytes) {
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

/** load(candidates: string[]) -> { library, corename, config } | null: the first library that opens and has cblas. */
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!blas.handle) {
    Napi::Array paths = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < paths.Length() && !blas.handle; i++) {
      std::string path = paths.Get(i).As<Napi::String>();
      void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
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
      blas = {h, d, s, path, corename ? corename() : "", config ? config() : ""};
    }
  }
  if (!blas.handle) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("library", blas.library);
  o.Set("corename", blas.corename);
  o.Set("config", blas.config);
  return o;
}

/** gemm(memory: Uint8Array over the whole kernel memory, rec: byte offset) -> RC (or -1: use the canonical kernel). */
Napi::Value GemmRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!blas.handle) throw Napi::Error::New(env, "tessera BLAS bridge: gemm() before a successful load()");
  Napi::TypedArray view = info[0].As<Napi::TypedArray>();
  napi_value buffer;
  void* data;
  size_t length;
  napi_typedarray_type type;
  size_t offset;
  if (napi_get_typedarray_info(env, view, &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array)
    throw Napi::TypeError::New(env, "tessera BLAS bridge: gemm() takes a Uint8Array over the kernel memory");
  uint8_t* mem = static_cast<uint8_t*>(data);
  const double bytes = static_cast<double>(length);
  const double rec = info[1].As<Napi::Number>().DoubleValue();
  if (!IsInt(rec) || rec < 0 || std::fmod(rec, 8) != 0 || rec + GEMM_WORDS * 8 > bytes) return Napi::Number::New(env, RC_BAD_HEADER);
  double w[GEMM_WORDS];
  std::memcpy(w, mem + static_cast<int64_t>(rec), sizeof w);
  if (w[G_MAGIC] != GEMM_MAGIC) return Napi::Number::New(env, RC_BAD_MAGIC);
  const double dt = w[G_DTYPE];
  if (dt != DT_F64 && dt != DT_F32) return Napi::Number::New(env, RC_BAD_HEADER);
  const double e = dt == DT_F64 ? 8 : 4;
  const double m = w[G_M], n = w[G_N], k = w[G_K];
  if (!(IsInt(m) && IsInt(n) && IsInt(k) && m >= 0 && n >= 0 && k >= 0 && m < TWO31 && n < TWO31 && k < TWO31))
    return Napi::Number::New(env, RC_BAD_HEADER);
  for (int i : {G_A, G_A_ROW, G_A_COL, G_B, G_B_ROW, G_B_COL, G_C, G_C_ROW, G_C_COL})
    if (!IsInt(w[i])) return Napi::Number::New(env, RC_BAD_HEADER);
  const double beta = w[G_BETA];
  if (beta != 0 && beta != 1) return Napi::Number::New(env, RC_BAD_HEADER);
  const double s = w[G_SCRATCH], sb = w[G_SCRATCH_BYTES];
  if (!(IsInt(s) && IsInt(sb) && s >= 0 && sb >= GEMM_SCRATCH_BYTES && s + GEMM_SCRATCH_BYTES <= bytes) || std::fmod(s, 16) != 0)
    return Napi::Number::New(env, RC_BAD_HEADER);
  if (!Inside(w[G_A], m, k, w[G_A_ROW], w[G_A_COL], e, bytes) || !Inside(w[G_B], k, n, w[G_B_ROW], w[G_B_COL], e, bytes) ||
      !Inside(w[G_C], m, n, w[G_C_ROW], w[G_C_COL], e, bytes))
    return Napi::Number::New(env, RC_BAD_HEADER);
  if (m == 0 || n == 0) return Napi::Number::New(env, RC_OK);
  auto I = [&](int i) { return static_cast<int64_t>(w[i]); };
  // the scratch the record gives: at least GEMM_SCRATCH_BYTES, never past the memory's end
  const int64_t scratchBytes = static_cast<int64_t>(std::fmin(sb, bytes - s));
  int rc = dt == DT_F64
               ? Gemm<double>(mem, I(G_M), I(G_N), I(G_K), I(G_A), I(G_A_ROW), I(G_A_COL), I(G_B), I(G_B_ROW), I(G_B_COL), I(G_C),
                              I(G_C_ROW), I(G_C_COL), beta != 0, I(G_SCRATCH), scratchBytes)
               : Gemm<float>(mem, I(G_M), I(G_N), I(G_K), I(G_A), I(G_A_ROW), I(G_A_COL), I(G_B), I(G_B_ROW), I(G_B_COL), I(G_C),
                             I(G_C_ROW), I(G_C_COL), beta != 0, I(G_SCRATCH), scratchBytes);
  return Napi::Number::New(env, rc);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("gemm", Napi::Function::New(env, GemmRecord));
  exports.Set("RC_FALLBACK", Napi::Number::New(env, RC_FALLBACK));
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera_blas, Init)
