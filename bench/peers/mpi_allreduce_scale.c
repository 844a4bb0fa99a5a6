/* Open MPI's side of bench/ranks-scale.mjs: MPI_Init time from the launcher's start (BENCH_T0, ms since
 * the epoch), MPI_Allreduce latency of one double (K timed after K/5 warm-up), open fds and RSS per rank;
 * one JSON line per rank, like bench/ranks_scale_case.mjs. */
#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>

static double now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n - 3; /* ".", ".." and the directory's own descriptor */
}

static double rss_mib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * 4096.0 / (1 << 20);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  double ready = now_ms();
  const char *t0s = getenv("BENCH_T0");
  double t0 = t0s ? atof(t0s) : ready;
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int iters = argc > 1 ? atoi(argv[1]) : 200;
  double x = rank, y = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  for (int i = 0; i < (iters / 5 > 0 ? iters / 5 : 1); i++) MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);
  double c = cpu_us();
  double t = MPI_Wtime();
  for (int i = 0; i < iters; i++) MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  double us = (MPI_Wtime() - t) * 1e6 / iters;
  double cpu = (cpu_us() - c) / iters;
  printf("{\"rank\":%d,\"size\":%d,\"startupMs\":%.1f,\"allreduceUs\":%.2f,\"cpuUs\":%.2f,\"fds\":%d,\"rssMiB\":%.1f}\n", rank, size, ready - t0, us, cpu, count_fds(), rss_mib());
  fflush(stdout);
  MPI_Finalize();
  return 0;
}
