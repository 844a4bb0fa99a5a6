/* Native C controls for the tessera benchmarks: what the hardware gives, one JSON line per result.
 *   native sum [THREADS] [N]  GB/s summing a float64 array of N doubles (default 2^26: 512 MiB; median of 9 passes),
 *                             8 AVX2 accumulators
 *   native add [THREADS] [N]  GB/s of c = a + b over float64 arrays of N doubles (3 streams counted), median of 9
 *   native add-fresh [THREADS] [N]  the same with c new memory in each pass (its first-touch page faults timed)
 *   native add-stream [THREADS] [N]  add with non-temporal stores (c faulted in beforehand), as tessera's
 *                                    native kernels write outputs of 8 MiB and more into resident memory
 *   native gensum N [THREADS] xoshiro256+ generate-and-sum of N doubles in one pass, split over THREADS (default 1),
 *                             16 lane sets (AVX-512 where the CPU has it)
 *   native spin SECONDS     compute-bound loop on 1 then 2 pthreads: the ratio shows host contention
 *   native store-write DIR FILES BYTES THREADS   writes FILES files DIR/c<k> of BYTES bytes each (random doubles,
 *                             generated once, untimed) with pwrite() on THREADS threads, then fdatasync()s them:
 *                             the page cache's and the disk's limits for storing an array (the storage cases)
 *   native store-read DIR FILES BYTES THREADS    reads them back with pread() and sums every double
 *   native pretouch BYTES   maps BYTES of anonymous memory, writes one byte per page, unmaps it: run (untimed) just
 *                             before a timed write so the page cache it fills lies in memory the host backs (see
 *                             pretouch() below); store-write does it itself when TESSERA_BENCH_PRETOUCH_BYTES is set
 * Build: gcc -O3 -march=native -mprefer-vector-width=512 -pthread native.c -o native   (see native.mjs) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- sum: memory bandwidth ---- */

/* Eight independent accumulators hide the 4-cycle add latency so the loop is bound by memory, not by adds. */
static double sum_range(const double *p, size_t n) {
  size_t i = 0;
  double s = 0;
#ifdef __AVX2__
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_pd(a0, _mm256_load_pd(p + i));      a1 = _mm256_add_pd(a1, _mm256_load_pd(p + i + 4));
    a2 = _mm256_add_pd(a2, _mm256_load_pd(p + i + 8));  a3 = _mm256_add_pd(a3, _mm256_load_pd(p + i + 12));
    a4 = _mm256_add_pd(a4, _mm256_load_pd(p + i + 16)); a5 = _mm256_add_pd(a5, _mm256_load_pd(p + i + 20));
    a6 = _mm256_add_pd(a6, _mm256_load_pd(p + i + 24)); a7 = _mm256_add_pd(a7, _mm256_load_pd(p + i + 28));
  }
  __m256d t = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)),
                            _mm256_add_pd(_mm256_add_pd(a4, a5), _mm256_add_pd(a6, a7)));
  double lanes[4];
  _mm256_storeu_pd(lanes, t);
  s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
#endif
  for (; i < n; i++) s += p[i];
  return s;
}

typedef struct { const double *p; size_t n; double out; } SumJob;
static void *sum_thread(void *arg) { SumJob *j = arg; j->out = sum_range(j->p, j->n); return NULL; }

static int mode_sum(int threads, size_t n) {
  const size_t bytes = n * sizeof(double);
  double *a = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
  if (!a) { fprintf(stderr, "out of memory\n"); return 1; }
  /* Fault every page in and use exact small integers, so the expected sum is known in any order. */
  for (size_t i = 0; i < n; i++) a[i] = (double)(i % 1000);
  double expected = (double)(n / 1000) * 499500.0 + (double)((n % 1000) * (n % 1000 - 1) / 2);
  enum { PASSES = 9 };
  double gbs[PASSES], result = 0;
  for (int r = 0; r < PASSES; r++) {
    pthread_t tid[64];
    SumJob jobs[64];
    size_t per = (n / threads) & ~(size_t)31; /* keep every slice 32-aligned for the aligned loads */
    double t0 = now();
    for (int k = 0; k < threads; k++) {
      jobs[k].p = a + per * k;
      jobs[k].n = k == threads - 1 ? n - per * k : per;
      pthread_create(&tid[k], NULL, sum_thread, &jobs[k]);
    }
    result = 0;
    for (int k = 0; k < threads; k++) { pthread_join(tid[k], NULL); result += jobs[k].out; }
    gbs[r] = bytes / (now() - t0) / 1e9;
  }
  qsort(gbs, PASSES, sizeof(double), cmp_double);
  printf("{\"engine\":\"c-native\",\"mode\":\"sum\",\"threads\":%d,\"bytes\":%zu,\"passes\":%d,"
         "\"gb_per_s\":%.2f,\"gb_per_s_min\":%.2f,\"gb_per_s_max\":%.2f,\"result\":%.1f,\"ok\":%s}\n",
         threads, bytes, PASSES, gbs[PASSES / 2], gbs[0], gbs[PASSES - 1], result,
         result == expected ? "true" : "false");
  free(a);
  return 0;
}

/* ---- add: elementwise a + b into a third array (two read streams, one write stream) ---- */

typedef struct { const double *a, *b; double *c; size_t n; int stream; } AddJob;
static void *add_thread(void *arg) {
  AddJob *j = arg;
  size_t i = 0;
  if (j->stream) { /* non-temporal stores: no read of the lines c overwrites (the plain loop reads each first) */
    for (; i < j->n && ((uintptr_t)(j->c + i) & 63) != 0; i++) j->c[i] = j->a[i] + j->b[i];
#if defined(__AVX512F__)
    for (; i + 8 <= j->n; i += 8) _mm512_stream_pd(j->c + i, _mm512_add_pd(_mm512_loadu_pd(j->a + i), _mm512_loadu_pd(j->b + i)));
#elif defined(__AVX__)
    for (; i + 4 <= j->n; i += 4) _mm256_stream_pd(j->c + i, _mm256_add_pd(_mm256_loadu_pd(j->a + i), _mm256_loadu_pd(j->b + i)));
#else
    for (; i + 2 <= j->n; i += 2) _mm_stream_pd(j->c + i, _mm_add_pd(_mm_loadu_pd(j->a + i), _mm_loadu_pd(j->b + i)));
#endif
    _mm_sfence();
  }
  for (; i < j->n; i++) j->c[i] = j->a[i] + j->b[i]; /* -O3 -march=native vectorizes this */
  return NULL;
}

/* fresh: c is new memory in every pass (mmap'ed in the timed region, so its page faults are timed),
 * as a persisted a + b writes into memory it has not touched before; else c is faulted in beforehand. */
static int mode_add(int threads, size_t n, int fresh, int stream) {
  const size_t bytes = n * sizeof(double);
  const size_t rounded = (bytes + 63) & ~(size_t)63; /* aligned_alloc wants a multiple of the alignment */
  double *a = aligned_alloc(64, rounded), *b = aligned_alloc(64, rounded), *c = fresh ? NULL : aligned_alloc(64, rounded);
  if (!a || !b || (!fresh && !c)) { fprintf(stderr, "out of memory\n"); return 1; }
  /* Same inputs as the engines' add_existing (i % 1000 and i % 999). */
  for (size_t i = 0; i < n; i++) { a[i] = (double)(i % 1000); b[i] = (double)(i % 999); }
  if (!fresh) for (size_t i = 0; i < n; i++) c[i] = 0;
  enum { PASSES = 9 };
  double gbs[PASSES];
  for (int r = 0; r < PASSES; r++) {
    pthread_t tid[64];
    AddJob jobs[64];
    size_t per = n / threads;
    double t0 = now();
    if (fresh) {
      if (c) munmap(c, rounded);
      c = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (c == MAP_FAILED) { fprintf(stderr, "out of memory\n"); return 1; }
    }
    for (int k = 0; k < threads; k++) {
      jobs[k] = (AddJob){a + per * k, b + per * k, c + per * k, k == threads - 1 ? n - per * k : per, stream};
      pthread_create(&tid[k], NULL, add_thread, &jobs[k]);
    }
    for (int k = 0; k < threads; k++) pthread_join(tid[k], NULL);
    gbs[r] = 3.0 * bytes / (now() - t0) / 1e9;
  }
  double result = 0;
  for (size_t i = 0; i < n; i++) result += c[i]; /* exact: small integers, total < 2^53 */
  qsort(gbs, PASSES, sizeof(double), cmp_double);
  printf("{\"engine\":\"c-native\",\"mode\":\"add\",\"fresh\":%s,\"stream\":%s,\"threads\":%d,\"bytes\":%zu,\"passes\":%d,"
         "\"gb_per_s\":%.2f,\"gb_per_s_min\":%.2f,\"gb_per_s_max\":%.2f,\"result\":%.1f}\n",
         fresh ? "true" : "false", stream ? "true" : "false", threads, 3 * bytes, PASSES, gbs[PASSES / 2], gbs[0], gbs[PASSES - 1], result);
  free(a); free(b);
  if (fresh) munmap(c, rounded); else free(c);
  return 0;
}

/* ---- gensum: random generation speed ---- */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

typedef struct { uint64_t seed, count; double sum, elapsed; } GensumJob;

/* One thread's generate-and-sum of job->count doubles from its own generators (seeded from job->seed). */
static void *gensum_thread(void *arg) {
  GensumJob *job = arg;
  uint64_t seed = job->seed, count = job->count;
  /* GENSUM_LANES independent xoshiro256+ lane sets, as plain C arrays: gcc -O3 -march=native
   * -mprefer-vector-width=512 turns the lane loop into 2 zmm registers per state word on an AVX-512 CPU and
   * 4 ymm on an AVX2 one, with 16 independent accumulator lanes hiding the add latency. The 52 random bits
   * go under the exponent of 1.0 ([1, 2), minus 1), as tessera's RANDOM does (and AVX2 has no u64->f64). */
  enum { GENSUM_LANES = 16 };
  uint64_t s0[GENSUM_LANES], s1[GENSUM_LANES], s2[GENSUM_LANES], s3[GENSUM_LANES];
  double acc[GENSUM_LANES];
  for (int l = 0; l < GENSUM_LANES; l++) {
    s0[l] = splitmix64(&seed); s1[l] = splitmix64(&seed); s2[l] = splitmix64(&seed); s3[l] = splitmix64(&seed);
    acc[l] = 0;
  }
  double t0 = now(), sum = 0;
  uint64_t i = 0;
  for (; i + GENSUM_LANES <= count; i += GENSUM_LANES) {
    for (int l = 0; l < GENSUM_LANES; l++) {
      uint64_t r = s0[l] + s3[l], t = s1[l] << 17;
      s2[l] ^= s0[l]; s3[l] ^= s1[l]; s1[l] ^= s2[l]; s0[l] ^= s3[l]; s2[l] ^= t;
      s3[l] = (s3[l] << 45) | (s3[l] >> 19); /* rotl 45 */
      uint64_t bits = (r >> 12) | 0x3FF0000000000000ull;
      double x;
      memcpy(&x, &bits, sizeof x);
      acc[l] += x - 1.0;
    }
  }
  for (int l = 0; l < GENSUM_LANES; l++) sum += acc[l];
  /* tail: lane 0 on its own */
  for (; i < count; i++) {
    uint64_t r = s0[0] + s3[0], t = s1[0] << 17;
    s2[0] ^= s0[0]; s3[0] ^= s1[0]; s1[0] ^= s2[0]; s0[0] ^= s3[0]; s2[0] ^= t; s3[0] = (s3[0] << 45) | (s3[0] >> 19);
    sum += (double)(r >> 11) * 0x1.0p-53;
  }
  job->sum = sum;
  job->elapsed = now() - t0;
  return NULL;
}

/* Generate-and-sum of count doubles split over `threads` threads: the compute-bound limit of the random
 * pipelines, and (1 vs 2 threads) the scaling this host gives to that kind of work. */
static int mode_gensum(uint64_t count, int threads) {
  pthread_t tid[64];
  GensumJob jobs[64];
  double t0 = now(), sum = 0;
  for (int k = 0; k < threads; k++) {
    jobs[k].seed = 42 + 1000003ull * k;
    jobs[k].count = count / threads + ((uint64_t)k < count % threads);
    pthread_create(&tid[k], NULL, gensum_thread, &jobs[k]);
  }
  for (int k = 0; k < threads; k++) { pthread_join(tid[k], NULL); sum += jobs[k].sum; }
  double secs = now() - t0;
  printf("{\"engine\":\"c-native\",\"mode\":\"gensum\",\"threads\":%d,\"n\":%llu,\"seconds\":%.4f,\"doubles_per_s\":%.4g,"
         "\"result\":%.6f,\"mean\":%.6f,\"simd\":%s}\n",
         threads, (unsigned long long)count, secs, count / secs, sum, sum / (double)count,
#if defined(__AVX512F__)
         "\"avx512\""
#elif defined(__AVX2__)
         "\"avx2\""
#else
         "\"sse2\""
#endif
  );
  return 0;
}

/* ---- spin: host contention control ---- */

typedef struct { double seconds; uint64_t iters; double elapsed; } SpinJob;

/* A dependent integer chain (xorshift): pure ALU work, no memory traffic, so two threads on two
 * free cores should each keep their one-thread rate. Less than ~1.9x means the host is contended. */
static void *spin_thread(void *arg) {
  SpinJob *j = arg;
  uint64_t x = 88172645463325252ull, iters = 0;
  double t0 = now(), t;
  do {
    for (int k = 0; k < 1 << 20; k++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
    iters += 1 << 20;
  } while ((t = now()) - t0 < j->seconds);
  j->iters = iters + (x == 0); /* use x so the loop is not removed */
  j->elapsed = t - t0;
  return NULL;
}

static double spin_run(int threads, double seconds) {
  pthread_t tid[2];
  SpinJob jobs[2];
  double total = 0;
  for (int k = 0; k < threads; k++) { jobs[k].seconds = seconds; pthread_create(&tid[k], NULL, spin_thread, &jobs[k]); }
  for (int k = 0; k < threads; k++) { pthread_join(tid[k], NULL); total += jobs[k].iters / jobs[k].elapsed; }
  return total;
}

static int mode_spin(double seconds) {
  double one = spin_run(1, seconds), two = spin_run(2, seconds);
  printf("{\"engine\":\"c-native\",\"mode\":\"spin\",\"seconds\":%.3f,\"iters_per_s_1\":%.4g,"
         "\"iters_per_s_2\":%.4g,\"ratio\":%.3f}\n", seconds, one, two, two / one);
  return 0;
}

/* ---- pretouch: memory the host backs before a timed write ----
 * In a VM whose balloon reports free pages to the host (virtio-balloon free page reporting: Firecracker's
 * and QEMU's guests), memory freed for about 2 s is handed back, and the next first touch of it faults in the
 * host: measured here at 0.36-0.5 GB/s against ~3 GB/s for pages freed a moment before. A write into the page
 * cache then runs at the host's fault rate, whoever writes, and which engine meets backed pages depends on
 * what ran just before it. Touching (and freeing) as much memory as the write will fill, right before it,
 * gives every engine the backed memory a bare-metal node has. The process names itself "pretouch" so the
 * harness's RSS sampler leaves it out of the step's peak RSS. */
static double pretouch(size_t bytes) {
  prctl(PR_SET_NAME, "pretouch", 0, 0, 0);
  double t0 = now();
  char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  munmap(p, bytes);
  return now() - t0;
}

/* pretouch() in a child process (its memory and name its own), waited for; 0 when the variable is unset. */
static int pretouch_from_env(void) {
  const char *v = getenv("TESSERA_BENCH_PRETOUCH_BYTES");
  if (!v || !*v) return 0;
  size_t bytes = strtoull(v, NULL, 10);
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) _exit(pretouch(bytes) < 0 ? 1 : 0);
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return errno;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EIO;
}

/* ---- store-write / store-read: the storage cases' limits (the page cache, and with fdatasync the disk) ---- */

/* The work is split into units of one block (32 MiB, or the whole file when smaller) of one file, so one big
 * file (.npy) is shared by the threads as evenly as many chunk files (Zarr) are. Sums are kept per unit and
 * added in unit order, so the read's total is bit-identical to the write's expected total when every byte
 * came back. A write is timed in two phases: pwrite() of everything (into the page cache, as the engines'
 * write calls return), then fdatasync() of every file (the disk). */
enum { STORE_BLOCK = 32 << 20 };
typedef struct {
  int write, sync, threads, t;
  int *fds;
  size_t files, bytes, block, units_per_file;
  const double *src; /* write: the block written everywhere */
  double *dst;       /* read: this thread's buffer */
  double *sums;      /* per unit */
  int err;
} StoreJob;

static void *store_thread(void *arg) {
  StoreJob *j = arg;
  if (j->sync) {
    for (size_t k = j->t; k < j->files; k += j->threads)
      if (fdatasync(j->fds[k]) != 0) { j->err = errno; return NULL; }
    return NULL;
  }
  size_t units = j->files * j->units_per_file;
  for (size_t u = j->t; u < units; u += j->threads) {
    size_t k = u / j->units_per_file, b = u % j->units_per_file;
    size_t off = b * j->block, len = j->bytes - off < j->block ? j->bytes - off : j->block, done = 0;
    char *p = j->write ? (char *)j->src : (char *)j->dst;
    while (done < len) {
      ssize_t r = j->write ? pwrite(j->fds[k], p + done, len - done, off + done) : pread(j->fds[k], p + done, len - done, off + done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) { j->err = r < 0 ? errno : EIO; return NULL; }
      done += (size_t)r;
    }
    j->sums[u] = sum_range(j->write ? j->src : j->dst, len / sizeof(double));
  }
  return NULL;
}

/* Runs one phase on every thread; 0, or the first error (errno). */
static int store_phase(StoreJob *jobs, int threads, int sync) {
  pthread_t tid[64];
  for (int t = 0; t < threads; t++) { jobs[t].sync = sync; pthread_create(&tid[t], NULL, store_thread, &jobs[t]); }
  for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  for (int t = 0; t < threads; t++) if (jobs[t].err) return jobs[t].err;
  return 0;
}

static int mode_store(int write, const char *dir, size_t files, size_t bytes, int threads) {
  size_t block = (bytes < STORE_BLOCK ? bytes : STORE_BLOCK) & ~(size_t)7;
  if (block == 0 || bytes % 8) { fprintf(stderr, "BYTES must be a positive multiple of 8\n"); return 2; }
  size_t upf = (bytes + block - 1) / block, units = files * upf;
  int *fds = calloc(files, sizeof(int));
  double *sums = calloc(units, sizeof(double));
  double *src = NULL;
  if (write) { /* untimed: the bytes exist before the write, as the engines' arrays do in numpy */
    src = aligned_alloc(64, (block + 63) & ~(size_t)63);
    uint64_t seed = 7;
    for (size_t i = 0; i < block / 8; i++) src[i] = (double)(splitmix64(&seed) >> 11) * 0x1.0p-53;
  }
  StoreJob jobs[64];
  for (int t = 0; t < threads; t++) {
    jobs[t] = (StoreJob){write, 0, threads, t, fds, files, bytes, block, upf, src, NULL, sums, 0};
    if (!write) jobs[t].dst = aligned_alloc(64, (block + 63) & ~(size_t)63);
  }
  char path[4096];
  if (write) {
    int e = pretouch_from_env();
    if (e) { fprintf(stderr, "pretouch: %s\n", strerror(e)); return 1; }
  }
  double t0 = now();
  for (size_t k = 0; k < files; k++) { /* opening (creating) the files is part of the work, as for the engines */
    snprintf(path, sizeof path, "%s/c%zu", dir, k);
    fds[k] = write ? open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644) : open(path, O_RDONLY);
    if (fds[k] < 0) { fprintf(stderr, "%s: %s\n", path, strerror(errno)); return 1; }
  }
  int err = store_phase(jobs, threads, 0);
  double t1 = now();
  if (!err && write) err = store_phase(jobs, threads, 1);
  double t2 = now();
  if (err) { fprintf(stderr, "%s %s: %s\n", write ? "writing" : "reading", dir, strerror(err)); return 1; }
  double sum = 0;
  for (size_t u = 0; u < units; u++) sum += sums[u];
  for (size_t k = 0; k < files; k++) close(fds[k]);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double all = (double)files * bytes;
  if (write)
    printf("{\"engine\":\"c-native\",\"mode\":\"store-write\",\"threads\":%d,\"files\":%zu,\"bytes\":%.0f,\"seconds\":%.5f,"
           "\"sync_seconds\":%.5f,\"gb_per_s\":%.3f,\"durable_gb_per_s\":%.3f,\"expected\":%.17g,\"peak_rss_mib\":%.1f}\n",
           threads, files, all, t1 - t0, t2 - t1, all / (t1 - t0) / 1e9, all / (t2 - t0) / 1e9, sum, ru.ru_maxrss / 1024.0);
  else
    printf("{\"engine\":\"c-native\",\"mode\":\"store-read\",\"threads\":%d,\"files\":%zu,\"bytes\":%.0f,\"seconds\":%.5f,"
           "\"gb_per_s\":%.3f,\"result\":%.17g,\"peak_rss_mib\":%.1f}\n",
           threads, files, all, t1 - t0, all / (t1 - t0) / 1e9, sum, ru.ru_maxrss / 1024.0);
  for (int t = 0; t < threads; t++) free(jobs[t].dst);
  free(fds); free(sums); free(src);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "sum")) {
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (threads < 1 || threads > 64) { fprintf(stderr, "threads must be 1..64\n"); return 2; }
    size_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : (size_t)1 << 26;
    if (n < 64) { fprintf(stderr, "N must be at least 64\n"); return 2; }
    return mode_sum(threads, n);
  }
  if (!strcmp(mode, "add") || !strcmp(mode, "add-fresh") || !strcmp(mode, "add-stream")) {
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (threads < 1 || threads > 64) { fprintf(stderr, "threads must be 1..64\n"); return 2; }
    size_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : (size_t)1 << 26;
    if (n < 64) { fprintf(stderr, "N must be at least 64\n"); return 2; }
    return mode_add(threads, n, !strcmp(mode, "add-fresh"), !strcmp(mode, "add-stream"));
  }
  if (!strcmp(mode, "gensum")) {
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (threads < 1 || threads > 64) { fprintf(stderr, "threads must be 1..64\n"); return 2; }
    return mode_gensum(argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000000ull, threads);
  }
  if (!strcmp(mode, "spin")) return mode_spin(argc > 2 ? atof(argv[2]) : 1.0);
  if (!strcmp(mode, "store-write") || !strcmp(mode, "store-read")) {
    if (argc != 6) { fprintf(stderr, "usage: %s %s DIR FILES BYTES THREADS\n", argv[0], mode); return 2; }
    size_t files = strtoull(argv[3], NULL, 10), bytes = strtoull(argv[4], NULL, 10);
    int threads = atoi(argv[5]);
    if (files < 1 || threads < 1 || threads > 64) { fprintf(stderr, "FILES >= 1, THREADS 1..64\n"); return 2; }
    return mode_store(!strcmp(mode, "store-write"), argv[2], files, bytes, threads);
  }
  if (!strcmp(mode, "pretouch") && argc == 3) {
    double s = pretouch(strtoull(argv[2], NULL, 10));
    if (s < 0) { fprintf(stderr, "pretouch: %s\n", strerror(errno)); return 1; }
    printf("{\"engine\":\"c-native\",\"mode\":\"pretouch\",\"bytes\":%s,\"seconds\":%.5f}\n", argv[2], s);
    return 0;
  }
  fprintf(stderr, "usage: %s sum [THREADS] [N] | add|add-fresh|add-stream [THREADS] [N] | gensum N [THREADS] | spin SECONDS | store-write|store-read DIR FILES BYTES THREADS | pretouch BYTES\n", argv[0]);
  return 2;
}
