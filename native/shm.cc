// tessera's shared-memory addon: POSIX shared-memory segments (shm_open + mmap) that ranks of one host
// map together, and cross-process wait/wake on 32-bit words inside them (Linux futex).
//
// Why a plain ArrayBuffer over external memory, not a SharedArrayBuffer:
//  - Node-API (ABI-stable: one build runs on every Node major) can only wrap external memory in a plain
//    ArrayBuffer (napi_create_external_arraybuffer). A SharedArrayBuffer over it needs V8's own C++ API
//    (v8::SharedArrayBuffer::NewBackingStore), which is not ABI-stable: the addon would have to be rebuilt
//    for each Node major and could break on a V8 change.
//  - What a SharedArrayBuffer would add is Atomics.wait/notify, and those do not cross processes anyway
//    (V8 keys its waiter lists by address inside one process): cross-process sleep needs a futex here in
//    any case. Atomics.load/store/add/compareExchange work on Int32Array views of a plain ArrayBuffer,
//    and are sequentially consistent machine instructions on the shared mapping: enough for the rings.
//  - The buffer is never transferred to worker threads (only the main thread of a rank talks to peers).
//
// Futex: FUTEX_WAIT/FUTEX_WAKE *without* FUTEX_PRIVATE_FLAG, because waiter and waker are different
// processes (a private futex is keyed by the process's address space and would never be woken). Callers
// spin first (cheap when the peer runs on another core) and sleep here only after a short spin: a wake-up
// of a sleeping vCPU costs tens of microseconds. Every wait has a timeout, so a dead peer never hangs a
// rank: the caller re-checks its world's state after each timeout.
#include <napi.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

std::string ErrnoText(const char* what, const std::string& name, int err) {
  return std::string(what) + " " + name + ": " + strerror(err) + " (errno " + std::to_string(err) + ")";
}

struct Mapping {
  void* addr;
  size_t bytes;
};

void Unmap(Napi::Env, void* data, Mapping* m) {
  munmap(m->addr, m->bytes);
  delete m;
}

Napi::Value MapFd(Napi::Env env, int fd, size_t bytes, const std::string& name) {
  void* addr = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) throw Napi::Error::New(env, ErrnoText("mmap", name, err));
  auto* m = new Mapping{addr, bytes};
  // the mapping lives as long as the ArrayBuffer: munmap when V8 collects it
  return Napi::ArrayBuffer::New(env, addr, bytes, Unmap, m);
}

size_t BytesArg(const Napi::CallbackInfo& info, size_t i) {
  double b = info[i].As<Napi::Number>().DoubleValue();
  if (!(b > 0) || b > 64.0 * 1024 * 1024 * 1024) throw Napi::RangeError::New(info.Env(), "segment size " + std::to_string(b) + " is not in (0, 64 GiB]");
  return static_cast<size_t>(b);
}

// create(name, bytes): a new segment (fails if the name exists), mode 0600, zero-filled, mapped.
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  size_t bytes = BytesArg(info, 1);
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) throw Napi::Error::New(env, ErrnoText("shm_open", name, errno));
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    int err = errno;
    close(fd);
    shm_unlink(name.c_str());
    throw Napi::Error::New(env, ErrnoText("ftruncate", name, err));
  }
  try {
    return MapFd(env, fd, bytes, name);
  } catch (...) {
    shm_unlink(name.c_str());
    throw;
  }
}

// open(name, bytes): maps an existing segment of exactly `bytes` bytes.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  size_t bytes = BytesArg(info, 1);
  int fd = shm_open(name.c_str(), O_RDWR, 0600);
  if (fd < 0) throw Napi::Error::New(env, ErrnoText("shm_open", name, errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) != bytes) {
    close(fd);
    throw Napi::Error::New(env, "segment " + name + " is " + std::to_string(st.st_size) + " bytes, expected " + std::to_string(bytes));
  }
  return MapFd(env, fd, bytes, name);
}

// unlink(name): true if removed, false if it was gone already.
Napi::Value Unlink(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  if (shm_unlink(name.c_str()) == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
  throw Napi::Error::New(info.Env(), ErrnoText("shm_unlink", name, errno));
}

// The 32-bit word at byteOffset of an ArrayBuffer (4-byte aligned, inside it).
uint32_t* WordArg(const Napi::CallbackInfo& info) {
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  double off = info[1].As<Napi::Number>().DoubleValue();
  if (!(off >= 0) || off + 4 > ab.ByteLength() || static_cast<size_t>(off) % 4 != 0) {
    throw Napi::RangeError::New(info.Env(), "word offset " + std::to_string(off) + " is not an aligned offset inside the segment");
  }
  return reinterpret_cast<uint32_t*>(static_cast<char*>(ab.Data()) + static_cast<size_t>(off));
}

long FutexWait(uint32_t* word, uint32_t expected, double timeoutMs) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeoutMs / 1000);
  ts.tv_nsec = static_cast<long>((timeoutMs - ts.tv_sec * 1000.0) * 1e6);
  return syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, nullptr, 0);
}

const char* WaitResult(long rc, int err) {
  if (rc == 0) return "ok";
  if (err == EAGAIN) return "not-equal";
  if (err == ETIMEDOUT) return "timed-out";
  return "ok";  // EINTR: a spurious wake-up; the caller re-checks its condition
}

// wait(buffer, byteOffset, expected, timeoutMs): sleeps while the word holds `expected` (blocking).
Napi::Value Wait(const Napi::CallbackInfo& info) {
  uint32_t* word = WordArg(info);
  uint32_t expected = info[2].As<Napi::Number>().Int64Value() & 0xffffffffu;
  double ms = info[3].As<Napi::Number>().DoubleValue();
  long rc = FutexWait(word, expected, ms > 0 ? ms : 0);
  return Napi::String::New(info.Env(), WaitResult(rc, errno));
}

// wake(buffer, byteOffset, count): wakes up to `count` waiters of the word in any process.
Napi::Value Wake(const Napi::CallbackInfo& info) {
  uint32_t* word = WordArg(info);
  int count = info.Length() > 2 ? info[2].As<Napi::Number>().Int32Value() : INT_MAX;
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  return Napi::Number::New(info.Env(), static_cast<double>(rc < 0 ? 0 : rc));
}

// spin(buffer, byteOffset, expected, maxSpins, yieldEvery): spins (with pause, and a sched_yield every
// `yieldEvery` turns, 0 never, so that a peer sharing this core can run) while the word holds `expected`;
// returns whether it changed.
Napi::Value Spin(const Napi::CallbackInfo& info) {
  volatile uint32_t* word = WordArg(info);
  uint32_t expected = info[2].As<Napi::Number>().Int64Value() & 0xffffffffu;
  int64_t spins = info[3].As<Napi::Number>().Int64Value();
  int64_t every = info.Length() > 4 ? info[4].As<Napi::Number>().Int64Value() : 256;
  for (int64_t i = 1; i <= spins; i++) {
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected) return Napi::Boolean::New(info.Env(), true);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (every > 0 && i % every == 0) sched_yield();
  }
  return Napi::Boolean::New(info.Env(), __atomic_load_n(word, __ATOMIC_ACQUIRE) != expected);
}

// waitAsync(buffer, byteOffset, expected, timeoutMs): wait() on a thread of libuv's pool; a Promise of
// its result. The buffer is referenced until the wait ends, so its mapping cannot be collected under it.
class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, Napi::ArrayBuffer ab, uint32_t* word, uint32_t expected, double ms)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), word_(word), expected_(expected), ms_(ms) {
    ref_ = Napi::Persistent(ab);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    long rc = FutexWait(word_, expected_, ms_);
    result_ = WaitResult(rc, errno);
  }
  void OnOK() override {
    ref_.Reset();
    deferred_.Resolve(Napi::String::New(Env(), result_));
  }
  void OnError(const Napi::Error& e) override {
    ref_.Reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::ArrayBuffer> ref_;
  uint32_t* word_;
  uint32_t expected_;
  double ms_;
  const char* result_ = "ok";
};

Napi::Value WaitAsync(const Napi::CallbackInfo& info) {
  uint32_t* word = WordArg(info);
  uint32_t expected = info[2].As<Napi::Number>().Int64Value() & 0xffffffffu;
  double ms = info[3].As<Napi::Number>().DoubleValue();
  auto* w = new WaitWorker(info.Env(), info[0].As<Napi::ArrayBuffer>(), word, expected, ms > 0 ? ms : 0);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// combine(out, left, right, dtype, op): out[i] = left[i] op right[i] over typed arrays of one type and
// length (out may be left or right), for the reductions of large arrays. Only the ops whose results are
// fixed by IEEE 754 and two's-complement arithmetic bit for bit, as the JS loops of src/comm/payload.ts
// compute them: sum and prod (op 0, 1) of float64, float32 (a float op rounds once, as JS's double op
// rounded to float does: 53 >= 2 * 24 + 2 bits), int32 and uint8 (wrapping, as `| 0`, Math.imul and a
// Uint8Array store do). No -ffast-math: the compiler vectorizes these loops without reassociating.
// dtype codes are the protocol's (1 float64, 2 float32, 3 int32, 4 uint8). Returns false when it does
// not do this combination (the caller runs its JS loop).
template <typename T>
void CombineLoop(T* o, const T* l, const T* r, size_t n, int op) {
  if (op == 0) {
    for (size_t i = 0; i < n; i++) o[i] = static_cast<T>(l[i] + r[i]);
  } else {
    for (size_t i = 0; i < n; i++) o[i] = static_cast<T>(l[i] * r[i]);
  }
}

void* ViewData(const Napi::TypedArray& t) {
  return static_cast<char*>(t.ArrayBuffer().Data()) + t.ByteOffset();
}

Napi::Value Combine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto o = info[0].As<Napi::TypedArray>();
  auto l = info[1].As<Napi::TypedArray>();
  auto r = info[2].As<Napi::TypedArray>();
  int dtype = info[3].As<Napi::Number>().Int32Value();
  int op = info[4].As<Napi::Number>().Int32Value();
  size_t n = o.ElementLength();
  if (l.ElementLength() != n || r.ElementLength() != n || l.TypedArrayType() != o.TypedArrayType() || r.TypedArrayType() != o.TypedArrayType() || (op != 0 && op != 1)) {
    return Napi::Boolean::New(env, false);
  }
  // partial overlaps (not the same array) are left to the caller: the loops assume none
  char* po = static_cast<char*>(ViewData(o));
  const char* pl = static_cast<const char*>(ViewData(l));
  const char* pr = static_cast<const char*>(ViewData(r));
  size_t bytes = o.ByteLength();
  auto overlaps = [&](const char* p) { return p != po && p < po + bytes && po < p + bytes; };
  if (overlaps(pl) || overlaps(pr)) return Napi::Boolean::New(env, false);
  switch (dtype) {
    case 1:
      if (o.TypedArrayType() != napi_float64_array) return Napi::Boolean::New(env, false);
      CombineLoop(reinterpret_cast<double*>(po), reinterpret_cast<const double*>(pl), reinterpret_cast<const double*>(pr), n, op);
      break;
    case 2:
      if (o.TypedArrayType() != napi_float32_array) return Napi::Boolean::New(env, false);
      CombineLoop(reinterpret_cast<float*>(po), reinterpret_cast<const float*>(pl), reinterpret_cast<const float*>(pr), n, op);
      break;
    case 3:
      // int32 wraps: computed on uint32 (signed overflow is undefined in C++), the same bits
      if (o.TypedArrayType() != napi_int32_array) return Napi::Boolean::New(env, false);
      CombineLoop(reinterpret_cast<uint32_t*>(po), reinterpret_cast<const uint32_t*>(pl), reinterpret_cast<const uint32_t*>(pr), n, op);
      break;
    case 4:
      if (o.TypedArrayType() != napi_uint8_array) return Napi::Boolean::New(env, false);
      CombineLoop(reinterpret_cast<uint8_t*>(po), reinterpret_cast<const uint8_t*>(pl), reinterpret_cast<const uint8_t*>(pr), n, op);
      break;
    default:
      return Napi::Boolean::New(env, false);
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value Yield(const Napi::CallbackInfo& info) {
  sched_yield();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("unlink", Napi::Function::New(env, Unlink));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("waitAsync", Napi::Function::New(env, WaitAsync));
  exports.Set("wake", Napi::Function::New(env, Wake));
  exports.Set("spin", Napi::Function::New(env, Spin));
  exports.Set("yield", Napi::Function::New(env, Yield));
  exports.Set("combine", Napi::Function::New(env, Combine));
  exports.Set("abi", Napi::Number::New(env, 2));
  return exports;
}

}  // namespace

NODE_API_MODULE(tessera_shm, Init)
