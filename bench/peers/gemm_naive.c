/* C control for bench/gemm-kernel.mjs: a naive-but-vectorized float64 matmul, C = A·B for row-major n×n
 * operands in the i-k-j order (the inner loop over j is contiguous, so gcc -O3 -march=native vectorizes it
 * to the widest vectors this CPU has; GNU C contracts a*b+c into FMA by default, -ffp-contract=off does not).
 * Each element's sum runs over k in increasing order, as the canonical arithmetic of the tessera kernel.
 *   gemm_naive N REPS   one JSON line: the median and best seconds of REPS runs, and GFLOP/s (2 N^3 flops)
 * Build: gcc -O3 -march=native gemm_naive.c -o gemm_naive */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void matmul(int n, const double *restrict a, const double *restrict b, double *restrict c) {
  memset(c, 0, sizeof(double) * (size_t)n * n);
  for (int i = 0; i < n; i++) {
    double *restrict ci = c + (size_t)i * n;
    for (int k = 0; k < n; k++) {
      const double aik = a[(size_t)i * n + k];
      const double *restrict bk = b + (size_t)k * n;
      for (int j = 0; j < n; j++) ci[j] += aik * bk[j];
    }
  }
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000, reps = argc > 2 ? atoi(argv[2]) : 3;
  size_t nn = (size_t)n * n;
  double *a = aligned_alloc(64, nn * 8), *b = aligned_alloc(64, nn * 8), *c = aligned_alloc(64, nn * 8);
  unsigned s = 1;
  for (size_t i = 0; i < nn; i++) {
    s = s * 1103515245u + 12345u;
    a[i] = (double)(s >> 8) / 16777216.0 - 0.5;
    s = s * 1103515245u + 12345u;
    b[i] = (double)(s >> 8) / 16777216.0 - 0.5;
  }
  double *t = malloc(sizeof(double) * reps);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    matmul(n, a, b, c);
    t[r] = now() - t0;
  }
  qsort(t, reps, sizeof(double), cmp_double);
  double flops = 2.0 * n * (double)n * n;
  printf("{\"n\":%d,\"reps\":%d,\"median_s\":%.6f,\"best_s\":%.6f,\"gflops\":%.3f,\"check\":%.17g}\n", n, reps, t[reps / 2], t[0],
         flops / t[reps / 2] / 1e9, c[nn / 2 + n / 3]);
  return 0;
}
