// tessera_kernels: the native twin of the tile interpreter (Node-API via node-addon-api).
//   levels()            the dispatch levels this CPU runs, best first ("avx512", "avx2", "scalar")
//   bind(view, level?)  view: a Uint8Array over the worker's WebAssembly.Memory buffer (a shared memory
//                       grows in place, so its base stays valid); returns run(prog, byteLength) -> RC,
//                       byteLength the memory's current length (every access is checked against it)
//   constants           the numbers of abi.h, for the test that compares them with src/kernels/abi.ts
#include <napi.h>

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "abi.h"
#include "levels.h"
#include "program.h"

namespace {

using RunFn = int (*)(const tk::Prog&);

struct Level { const char* name; RunFn run; bool (*supported)(); };

bool hasAvx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("bmi2");
}
bool hasAvx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"); }
bool always() { return true; }

const Level LEVELS[] = {{"avx512", tk::avx512::run, hasAvx512}, {"avx2", tk::avx2::run, hasAvx2}, {"scalar", tk::scalar::run, always}};

struct Binding {
  uint8_t* mem;
  RunFn run;
};

// The base of the memory under a typed-array view: its data pointer is at byteOffset within the buffer.
uint8_t* memoryBase(Napi::Env env, Napi::Value v, const char* what) {
  void* data = nullptr;
  size_t length = 0, offset = 0;
  napi_value buffer;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset) != napi_ok || data == nullptr) {
    throw Napi::Error::New(env, std::string(what) + ": no data pointer for the view");
  }
  return static_cast<uint8_t*>(data) - offset;
}

Napi::Value Run(const Napi::CallbackInfo& info) {
  const Binding* b = static_cast<const Binding*>(info.Data());
  const double prog = info[0].As<Napi::Number>().DoubleValue();
  const double len = info[1].As<Napi::Number>().DoubleValue();
  int rc;
  if (!(prog >= 0 && prog < 4294967296.0) || !(len >= 0 && len <= 4294967296.0)) {
    rc = tk::RC_OUT_OF_BOUNDS;
  } else {
    tk::Prog p;
    bool empty = false;
    rc = tk::validate(b->mem, (uint64_t)len, (uint64_t)prog, p, empty);
    try {
      if (rc == tk::RC_OK && !empty) rc = b->run(p);
    } catch (const std::bad_alloc&) {  // a span cache could not be allocated (random.inc)
      throw Napi::Error::New(info.Env(), "native kernels: out of memory for a random-number span");
    }
  }
  return Napi::Number::New(info.Env(), rc);
}

Napi::Value Levels(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (const Level& l : LEVELS) if (l.supported()) out.Set(n++, Napi::String::New(info.Env(), l.name));
  return out;
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "bind(view): view must be a Uint8Array over the memory");
  uint8_t* const base = memoryBase(env, info[0], "bind(view)");
  const Level* level = nullptr;
  if (info.Length() >= 2 && info[1].IsString()) {
    const std::string want = info[1].As<Napi::String>().Utf8Value();
    for (const Level& l : LEVELS) if (want == l.name) level = &l;
    if (!level) throw Napi::Error::New(env, "bind: unknown level " + want + " (avx512, avx2, scalar)");
    if (!level->supported()) throw Napi::Error::New(env, "bind: this CPU does not support level " + want);
  } else {
    for (const Level& l : LEVELS) if (!level && l.supported()) level = &l;
  }
  Binding* b = new Binding{base, level->run};
  Napi::Function fn = Napi::Function::New(env, Run, "run", b);
  fn.AddFinalizer([](Napi::Env, Binding* p) { delete p; }, b);
  return fn;
}

// adviseHugePages(view, bytes): madvise(MADV_HUGEPAGE) over `bytes` from the base of the memory under
// view (2 MiB aligned inward); returns 0 or the errno.
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "adviseHugePages(view, bytes)");
  const uintptr_t huge = uintptr_t(2) << 20;
  const uintptr_t base = reinterpret_cast<uintptr_t>(memoryBase(env, info[0], "adviseHugePages(view)"));
  const uintptr_t end = base + static_cast<uintptr_t>(info[1].As<Napi::Number>().DoubleValue());
  const uintptr_t from = (base + huge - 1) & ~(huge - 1), to = end & ~(huge - 1);
  int rc = 0;
#ifdef MADV_HUGEPAGE
  if (to > from && madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE) != 0) rc = errno;
#else
  rc = ENOSYS;
#endif
  return Napi::Number::New(env, rc);
}

Napi::Object Constants(Napi::Env env) {
  using namespace tk;
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* k, double v) { c.Set(k, Napi::Number::New(env, v)); };
#define TK_C(name) set(#name, name);
  TK_C(H_MAGIC) TK_C(H_NDIM) TK_C(H_ROWLEN) TK_C(H_NSLOTS) TK_C(H_NINSTR) TK_C(H_NCONST) TK_C(H_NREGS) TK_C(H_TILE)
  TK_C(H_EXTENTS) TK_C(H_SLOTS) TK_C(H_INSTR) TK_C(H_CONSTS) TK_C(H_REGS) TK_C(H_SCRATCH) TK_C(H_WORDS)
  TK_C(PROGRAM_MAGIC) TK_C(MAX_DIMS) TK_C(MAX_TILE) TK_C(MAX_REGS) TK_C(SCRATCH_BYTES) TK_C(RNG_BLOCK) TK_C(MAX_SLOTS)
  TK_C(MAX_RANDOM_OPS) TK_C(S_KIND) TK_C(S_DTYPE) TK_C(S_BASE) TK_C(S_LAST) TK_C(S_ROW) TK_C(SLOT_MEM) TK_C(SLOT_INDEX)
  TK_C(DT_F64) TK_C(DT_F32) TK_C(DT_I32) TK_C(DT_BOOL)
  TK_C(OP_END) TK_C(OP_IOTA) TK_C(OP_RANDOM) TK_C(OP_LOAD) TK_C(OP_CONST) TK_C(OP_NEG) TK_C(OP_ABS) TK_C(OP_SQRT)
  TK_C(OP_EXP) TK_C(OP_LOG) TK_C(OP_SIN) TK_C(OP_COS) TK_C(OP_TANH) TK_C(OP_FLOOR) TK_C(OP_CEIL) TK_C(OP_ROUND_F32)
  TK_C(OP_WRAP_I32) TK_C(OP_TRUNC_I32) TK_C(OP_NOT) TK_C(OP_BOOL) TK_C(OP_ISNAN) TK_C(OP_TAN) TK_C(OP_ASIN) TK_C(OP_ACOS)
  TK_C(OP_ATAN) TK_C(OP_SINH) TK_C(OP_COSH) TK_C(OP_ASINH) TK_C(OP_ACOSH) TK_C(OP_ATANH) TK_C(OP_LOG1P) TK_C(OP_EXPM1)
  TK_C(OP_LOG2) TK_C(OP_LOG10) TK_C(OP_EXP2) TK_C(OP_SIGN) TK_C(OP_ISINF) TK_C(OP_ISFINITE) TK_C(OP_RINT) TK_C(OP_ADD)
  TK_C(OP_SUB) TK_C(OP_MUL) TK_C(OP_DIV) TK_C(OP_POW) TK_C(OP_MAX) TK_C(OP_MIN) TK_C(OP_EQ) TK_C(OP_NE) TK_C(OP_LT)
  TK_C(OP_LE) TK_C(OP_GT) TK_C(OP_GE) TK_C(OP_IMUL) TK_C(OP_ATAN2) TK_C(OP_HYPOT) TK_C(OP_MOD) TK_C(OP_FLOORDIV)
  TK_C(OP_FMAX) TK_C(OP_FMIN) TK_C(OP_IMOD) TK_C(OP_IFLOORDIV) TK_C(OP_SELECT) TK_C(OP_STORE) TK_C(OP_RSUM) TK_C(OP_RPROD)
  TK_C(OP_RMIN) TK_C(OP_RMAX) TK_C(OP_RARGMIN) TK_C(OP_RARGMAX) TK_C(OP_RVAR) TK_C(OP_RNANARGMIN) TK_C(OP_RNANARGMAX)
  TK_C(OP_CUMSUM) TK_C(OP_CUMPROD) TK_C(OP_HIST)
  TK_C(HIST_P_BINS) TK_C(HIST_P_FLAGS) TK_C(HIST_P_KEEP_LO) TK_C(HIST_P_KEEP_HI) TK_C(HIST_P_SUB_LO) TK_C(HIST_P_NORM)
  TK_C(HIST_P_START) TK_C(HIST_P_STEP) TK_C(HIST_P_DELTA) TK_C(HIST_P_STOP) TK_C(HIST_P_EDGES)
  TK_C(HF_F32_SUB) TK_C(HF_F32_MUL) TK_C(HF_F32_EDGES) TK_C(HF_STEP_ZERO) TK_C(HF_EDGES)
  TK_C(RC_OK) TK_C(RC_BAD_MAGIC) TK_C(RC_BAD_OPCODE) TK_C(RC_BAD_HEADER) TK_C(RC_OUT_OF_BOUNDS) TK_C(TILE_SUM_LANES)
#undef TK_C
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("levels", Napi::Function::New(env, Levels, "levels"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("adviseHugePages", Napi::Function::New(env, AdviseHugePages, "adviseHugePages"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera_kernels, Init)
