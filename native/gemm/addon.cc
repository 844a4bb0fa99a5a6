// tessera's GEMM addon: GEMM records (src/kernels/abi.ts) run natively on a worker's kernel memory, by an
// optimized BLAS found at run time (blas.cc: the default where one loads) or by the canonical kernel built
// for this CPU's widest vectors (canonical-kernel.h: the bits of the wasm kernel and the JS twin).
//
// The memory comes as a Uint8Array over the worker's shared WebAssembly.Memory: napi_get_typedarray_info
// gives its data pointer for a SharedArrayBuffer-backed view too, and a shared wasm memory grows in place,
// so the pointer of the view passed with each call is the memory's base.
#include <napi.h>

#include <atomic>
#include <string>
#include <vector>

#include "blas.h"
#include "canonical.h"
#include "record.h"

namespace {

using namespace tessera_gemm;

// the canonical kernel's build, chosen once per process (useIsa may force one: tests of every build)
std::atomic<const char*> isa{nullptr};

uint8_t* MemoryOf(const Napi::CallbackInfo& info, size_t* length) {
  napi_value buffer;
  void* data;
  napi_typedarray_type type;
  size_t offset;
  if (!info[0].IsTypedArray() || napi_get_typedarray_info(info.Env(), info[0], &type, length, &data, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), "tessera GEMM addon: the first argument is a Uint8Array over the kernel memory");
  return static_cast<uint8_t*>(data);
}

/** load(paths) -> { library, corename, config } | null: the BLAS library, opened once per process. */
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> paths;
  Napi::Array list = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) paths.push_back(list.Get(i).As<Napi::String>());
  const BlasLibrary* lib = LoadBlas(paths);
  if (!lib) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("library", lib->library);
  o.Set("corename", lib->corename);
  o.Set("config", lib->config);
  return o;
}

/** useIsa(name?) -> the canonical kernel's build ("avx512" | "avx2" | "sse2"), or null when this CPU lacks `name`. */
Napi::Value UseIsa(const Napi::CallbackInfo& info) {
  std::string force = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  const char* chosen = CanonicalIsa(force.c_str());
  if (!chosen) return info.Env().Null();
  isa.store(chosen);
  return Napi::String::New(info.Env(), chosen);
}

template <typename T>
bool Aligned(const Record& r) {
  return r.a % sizeof(T) == 0 && r.b % sizeof(T) == 0 && r.c % sizeof(T) == 0;
}

/** gemm(memory, rec, blas) -> RC, or RC_FALLBACK (-1) when the caller should run the wasm kernel on the record. */
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t length;
  uint8_t* mem = MemoryOf(info, &length);
  Record r;
  int rc = ReadRecord(mem, static_cast<double>(length), info[1].As<Napi::Number>().DoubleValue(), &r);
  if (rc != RC_OK) return Napi::Number::New(env, rc);
  if (info[2].ToBoolean()) return Napi::Number::New(env, BlasGemm(mem, r));
  if (r.m == 0 || r.n == 0) return Napi::Number::New(env, RC_OK);
  if (!(r.f32 ? Aligned<float>(r) : Aligned<double>(r))) return Napi::Number::New(env, RC_FALLBACK);
  if (r.k == 0) {
    if (!r.beta) r.f32 ? ZeroC<float>(mem, r) : ZeroC<double>(mem, r);
    return Napi::Number::New(env, RC_OK);
  }
  const char* build = isa.load();
  if (!build) isa.store(build = CanonicalIsa(nullptr));
  // a stride along a dimension of 1 is never used: 0 keeps the kernel's address arithmetic in range
  auto st = [](int64_t dim, int64_t s) { return dim > 1 ? s : 0; };
  CanonicalArgs g{r.f32, r.m, r.n, r.k, mem + r.a, st(r.m, r.ars), st(r.k, r.acs), mem + r.b, st(r.k, r.brs), st(r.n, r.bcs),
                  mem + r.c, st(r.m, r.crs), st(r.n, r.ccs), r.beta};
  CanonicalGemm(build, g);
  return Napi::Number::New(env, RC_OK);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("useIsa", Napi::Function::New(env, UseIsa));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  Napi::Object abi = Napi::Object::New(env);
  abi.Set("GEMM_WORDS", static_cast<double>(GEMM_WORDS));
  abi.Set("GEMM_MAGIC", GEMM_MAGIC);
  abi.Set("GEMM_SCRATCH_BYTES", GEMM_SCRATCH_BYTES);
  abi.Set("DT_F64", DT_F64);
  abi.Set("DT_F32", DT_F32);
  abi.Set("RC_OK", RC_OK);
  abi.Set("RC_BAD_MAGIC", RC_BAD_MAGIC);
  abi.Set("RC_BAD_HEADER", RC_BAD_HEADER);
  abi.Set("RC_FALLBACK", RC_FALLBACK);
  Napi::Object g = Napi::Object::New(env);
  const char* names[] = {"MAGIC", "DTYPE", "M", "N", "K", "A", "A_ROW", "A_COL", "B", "B_ROW", "B_COL", "C", "C_ROW", "C_COL", "BETA", "SCRATCH", "SCRATCH_BYTES"};
  for (int i = 0; i < GEMM_WORDS; i++) g.Set(names[i], i);
  abi.Set("G", g);
  exports.Set("abi", abi);
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera_gemm, Init)
