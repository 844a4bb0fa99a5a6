/* Open MPI's side of bench/shm.mjs, the same protocol as bench/shm_case.mjs: MPI_Allreduce of one double
 * (LAT timed ops after a warm-up, each timed on its own; median), of 64 MiB of doubles (BW_REPS after one
 * warm-up, a barrier before each; median), MPI_Bcast of 1 MiB from rank 0 (median on rank 0, and of each
 * rep's slowest rank) and MPI_Gather of 1 MiB per rank to rank 0 (REPS each after a barrier; median).
 * Rank 0 prints one JSON line.
 *   mpicc -O2 -o mpi_collectives mpi_collectives.c && mpirun -n P ./mpi_collectives [LAT] [BW_MIB] [BW_REPS] [REPS]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* `warm` allreduces of one double, a barrier, then `n` each timed into t: their median, µs */
static double allreduce_latency(int warm, int n, double *t, double *one, double *sum) {
  for (int i = 0; i < warm; i++) MPI_Allreduce(one, sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < n; i++) {
    double t0 = MPI_Wtime();
    MPI_Allreduce(one, sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    t[i] = MPI_Wtime() - t0;
  }
  return median(t, n) * 1e6;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int r, P;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &P);
  int lat = argc > 1 ? atoi(argv[1]) : 2000;
  int bw_mib = argc > 2 ? atoi(argv[2]) : 64;
  int bw_reps = argc > 3 ? atoi(argv[3]) : 5;
  int reps = argc > 4 ? atoi(argv[4]) : 50;
  double *t = malloc(sizeof(double) * (lat > reps ? lat : reps) + 8);

  double one = r + 1, sum = 0;
  double lat_us = allreduce_latency(200, lat, t, &one, &sum);
  int lat_ok = sum == P * (P + 1) / 2.0;
  /* the steady state, as bench/shm_case.mjs measures it: 20,000 more ops, then 10,000 timed */
  enum { STEADY_WARM = 20000, STEADY_LAT = 10000 };
  double *ts = malloc(sizeof(double) * STEADY_LAT);
  double lat_steady_us = allreduce_latency(STEADY_WARM, STEADY_LAT, ts, &one, &sum);
  lat_ok = lat_ok && sum == P * (P + 1) / 2.0;

  size_t n = (size_t)bw_mib * 1024 * 1024 / 8;
  double *a = malloc(n * 8), *b = malloc(n * 8);
  for (size_t i = 0; i < n; i++) a[i] = (double)(i % 1000) + r;
  MPI_Allreduce(a, b, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  for (int k = 0; k < bw_reps; k++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Allreduce(a, b, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    t[k] = MPI_Wtime() - t0;
  }
  double bw_s = median(t, bw_reps);
  int bw_ok = b[n - 1] == P * (double)((n - 1) % 1000) + P * (P - 1) / 2.0;

  size_t m = 1 << 20; /* bytes */
  char *s = malloc(m), *g = malloc(m * P);
  memset(s, r, m);
  for (int k = 0; k < 5; k++) MPI_Bcast(s, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
  for (int k = 0; k < reps; k++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Bcast(s, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
    t[k] = MPI_Wtime() - t0;
  }
  /* each rep's time on its slowest rank (the root may return before the others have the data) */
  double *tmax = malloc(sizeof(double) * reps + 8);
  MPI_Reduce(t, tmax, reps, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  double bcast_slowest_us = r == 0 ? median(tmax, reps) * 1e6 : 0;
  double bcast_us = median(t, reps) * 1e6;
  memset(s, r, m);
  for (int k = 0; k < 5; k++) MPI_Gather(s, (int)m, MPI_BYTE, g, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
  for (int k = 0; k < reps; k++) {
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    MPI_Gather(s, (int)m, MPI_BYTE, g, (int)m, MPI_BYTE, 0, MPI_COMM_WORLD);
    t[k] = MPI_Wtime() - t0;
  }
  double gather_us = median(t, reps) * 1e6;
  int gather_ok = r != 0 || g[m * (P - 1)] == (char)(P - 1);
  if (r == 0)
    printf("{\"engine\":\"openmpi\",\"ranks\":%d,\"lat_median_us\":%.3f,\"lat_steady_median_us\":%.3f,\"lat_ok\":%s,\"bw_bytes\":%zu,\"bw_gb_per_s\":%.3f,\"bw_ok\":%s,"
           "\"bcast_1mib_us\":%.1f,\"bcast_1mib_slowest_us\":%.1f,\"gather_1mib_us\":%.1f,\"gather_ok\":%s}\n",
           P, lat_us, lat_steady_us, lat_ok ? "true" : "false", n * 8, n * 8 / bw_s / 1e9, bw_ok ? "true" : "false", bcast_us, bcast_slowest_us, gather_us, gather_ok ? "true" : "false");
  MPI_Finalize();
  return 0;
}
