// tessera's zstd reader: decodes a zstd chunk file straight into its place in a worker's kernel memory
// with the system's libzstd (opened at run time with dlopen, like the GEMM addon's OpenBLAS: the addon
// builds without zstd headers and loads without the library). The file is read in pieces of 1 MiB into
// a buffer of the thread's own and fed to libzstd's streaming decoder with a stable output buffer, so the
// decoded bytes are written once, where they belong, and no chunk-sized memory is added to the worker.
// Codes as assembly/zstd.ts's (src/storage/zstd.ts turns them into the chunk's FORMAT_ERROR), plus an I/O
// error. Only stable parts of libzstd's ABI are used: the streaming API, ZSTD_getErrorCode's values
// (zstd_errors.h keeps them fixed) and ZSTD_d_stableOutBuffer (1001 since zstd 1.4.4; its absence only
// costs a copy through libzstd's window buffer).
#include <napi.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace {

// assembly/zstd.ts's codes (src/storage/zstd.ts), and one of this addon's own
constexpr int E_CORRUPT = -1, E_DST_SIZE = -2, E_UNSUPPORTED = -3, E_CHECKSUM = -5, E_TRUNCATED = -6, E_IO = -9;

struct InBuffer { const void* src; size_t size; size_t pos; };
struct OutBuffer { void* dst; size_t size; size_t pos; };
using CreateDCtx = void* (*)();
using DCtxReset = size_t (*)(void*, int);
using DCtxSetParameter = size_t (*)(void*, int, int);
using DecompressStream = size_t (*)(void*, OutBuffer*, InBuffer*);
using IsError = unsigned (*)(size_t);
using GetErrorCode = int (*)(size_t);
using VersionString = const char* (*)();

struct Zstd {
  void* handle = nullptr;
  CreateDCtx createDCtx;
  DCtxReset reset;
  DCtxSetParameter setParameter;
  DecompressStream decompressStream;
  IsError isError;
  GetErrorCode errorCode;
  std::string library, version;
};
Zstd zstd;  // process-wide; each thread has its own decoder context and buffer

constexpr int ZSTD_reset_session_only = 1;
constexpr int ZSTD_d_stableOutBuffer = 1001;
constexpr size_t PIECE = 1 << 20;

struct ThreadDecoder {
  void* dctx = nullptr;
  bool stable = false;
  std::vector<uint8_t> in = std::vector<uint8_t>(PIECE);
};
thread_local ThreadDecoder decoder;

int Code(size_t r) {
  switch (zstd.errorCode(r)) {
    case 70: case 80: return E_DST_SIZE;    // dstSize_tooSmall, noForwardProgress_destFull
    case 32: case 30: return E_UNSUPPORTED; // dictionary_wrong, dictionary_corrupted
    case 22: return E_CHECKSUM;             // checksum_wrong
    case 72: return E_TRUNCATED;            // srcSize_wrong
    default: return E_CORRUPT;
  }
}

/** load(paths) -> { library, version } | null */
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static std::mutex loading;  // every worker thread loads it: one at a time
  std::lock_guard<std::mutex> hold(loading);
  Napi::Array paths = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < paths.Length() && !zstd.handle; i++) {
    std::string path = paths.Get(i).As<Napi::String>();
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    Zstd z;
    z.handle = h;
    z.createDCtx = reinterpret_cast<CreateDCtx>(dlsym(h, "ZSTD_createDCtx"));
    z.reset = reinterpret_cast<DCtxReset>(dlsym(h, "ZSTD_DCtx_reset"));
    z.setParameter = reinterpret_cast<DCtxSetParameter>(dlsym(h, "ZSTD_DCtx_setParameter"));
    z.decompressStream = reinterpret_cast<DecompressStream>(dlsym(h, "ZSTD_decompressStream"));
    z.isError = reinterpret_cast<IsError>(dlsym(h, "ZSTD_isError"));
    z.errorCode = reinterpret_cast<GetErrorCode>(dlsym(h, "ZSTD_getErrorCode"));
    auto version = reinterpret_cast<VersionString>(dlsym(h, "ZSTD_versionString"));
    if (!z.createDCtx || !z.reset || !z.setParameter || !z.decompressStream || !z.isError || !z.errorCode) {
      dlclose(h);
      continue;
    }
    z.library = path;
    z.version = version ? version() : "";
    zstd = z;
  }
  if (!zstd.handle) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("library", zstd.library);
  o.Set("version", zstd.version);
  return o;
}

/**
 * readFd(memory: Uint8Array over the kernel memory, fd, size, dst, cap) -> bytes decoded into
 * memory[dst, dst + cap), or a negative code: the `size` bytes of the file at fd from offset 0.
 */
Napi::Value ReadFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!zstd.handle) throw Napi::Error::New(env, "tessera zstd reader: readFd() before a successful load()");
  napi_value buffer;
  void* data;
  size_t length, offset;
  napi_typedarray_type type;
  if (!info[0].IsTypedArray() || napi_get_typedarray_info(env, info[0], &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array)
    throw Napi::TypeError::New(env, "tessera zstd reader: the first argument is a Uint8Array over the kernel memory");
  const int fd = info[1].As<Napi::Number>().Int32Value();
  const int64_t size = info[2].As<Napi::Number>().Int64Value();
  const int64_t dst = info[3].As<Napi::Number>().Int64Value(), cap = info[4].As<Napi::Number>().Int64Value();
  if (dst < 0 || cap < 0 || size < 0 || static_cast<uint64_t>(cap) > length || static_cast<uint64_t>(dst) > length - static_cast<uint64_t>(cap)) throw Napi::RangeError::New(env, "tessera zstd reader: the destination is not inside the memory");
  ThreadDecoder& d = decoder;
  if (!d.dctx) {
    d.dctx = zstd.createDCtx();
    if (!d.dctx) throw Napi::Error::New(env, "tessera zstd reader: ZSTD_createDCtx failed");
  }
  zstd.reset(d.dctx, ZSTD_reset_session_only);
  // the output buffer stays the same for the whole chunk: libzstd may then write straight into it
  d.stable = !zstd.isError(zstd.setParameter(d.dctx, ZSTD_d_stableOutBuffer, 1));
  OutBuffer out{static_cast<uint8_t*>(data) + dst, static_cast<size_t>(cap), 0};
  size_t last = 1;  // libzstd's hint: 0 once a frame is complete
  for (int64_t at = 0; at < size;) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(PIECE, size - at));
    ssize_t got;
    do got = pread(fd, d.in.data(), want, at); while (got < 0 && errno == EINTR);
    if (got == 0) return Napi::Number::New(env, E_TRUNCATED);  // the file is shorter than it was
    if (got < 0) return Napi::Number::New(env, E_IO);
    at += got;
    InBuffer in{d.in.data(), static_cast<size_t>(got), 0};
    while (in.pos < in.size) {
      const size_t before = in.pos + out.pos;
      last = zstd.decompressStream(d.dctx, &out, &in);
      if (zstd.isError(last)) return Napi::Number::New(env, Code(last));
      if (in.pos + out.pos == before) return Napi::Number::New(env, out.pos == out.size ? E_DST_SIZE : E_CORRUPT);
    }
  }
  if (last != 0) return Napi::Number::New(env, out.pos == out.size ? E_DST_SIZE : E_TRUNCATED);  // input ended inside a frame
  return Napi::Number::New(env, static_cast<double>(out.pos));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("readFd", Napi::Function::New(env, ReadFd));
  exports.Set("E_IO", E_IO);
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera_codecs, Init)
