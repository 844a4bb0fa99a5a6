// One rank of bench/ranks-scale.mjs, run as `node dist/run.js --np P --workers 1 bench/ranks_scale_case.mjs K`
// (or under srun): how long this rank took from the launcher's start (BENCH_T0, ms since the epoch) until
// its world was ready, the latency of an allreduce of one float64 (K timed, after K/5 warm-up ones) and the
// CPU time this rank spent per allreduce (the work that grows with P on any machine), the
// links it has, its open file descriptors and RSS. Every rank prints one JSON line.
import { readdirSync } from "node:fs";
import { getWorld } from "../dist/comm/index.js";

export default async ({ tessera, argv }) => {
  const ready = Date.now();
  const w = tessera.world;
  const iters = Number(argv[0] ?? 200);
  const one = new Float64Array([w.rank]);
  await w.barrier();
  for (let i = 0; i < Math.max(1, iters / 5); i++) await w.allreduce(one);
  await w.barrier();
  const cpu0 = process.cpuUsage();
  const t = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) await w.allreduce(one);
  const us = Number(process.hrtime.bigint() - t) / 1000 / iters;
  const cpu = process.cpuUsage(cpu0);
  const world = getWorld();
  const line = {
    rank: w.rank, size: w.size, startupMs: ready - Number(process.env.BENCH_T0 ?? ready), allreduceUs: us, cpuUs: (cpu.user + cpu.system) / iters,
    links: world.connectedRanks?.length ?? 0, fds: readdirSync("/proc/self/fd").length, rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
  process.stdout.write(JSON.stringify(line) + "\n");
  await w.barrier();
  return null;
};
