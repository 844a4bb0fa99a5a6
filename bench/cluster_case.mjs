// One tessera run of a cluster benchmark case, in a fresh process; prints one JSON line.
//
//   node bench/cluster_case.mjs ENGINE CASE N CHUNK [SEED]
//   ENGINE: local (this process, 2 worker threads) | cluster (LocalCluster, 2 workers x 1 thread)
//           | ranks (node dist/run.js --np 2 --workers 1: the same compute split between 2 ranks)
//   CASE:   random_mapblocks_add_sum        x.mapBlocks((b) => b.add(1)).sum() (traced: fused)
//           random_mapblocks_add_sum_blocks the same on real blocks ({ trace: false }: 32 MB blocks)
//           ones_tiny_tasks                 ones([N], { chunks: CHUNK }).sum() (per-task overhead)
//
// Only compute() is timed (cluster start-up is reported apart, as dask's LocalCluster start is not timed).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client, LocalCluster, ones, random } from "../dist/index.js";

const [engine, kase, nArg, chunkArg, seedArg] = process.argv.slice(2);
const n = Number(nArg);
const chunk = Number(chunkArg);
const seed = Number(seedArg ?? 1);

function build() {
  if (kase === "ones_tiny_tasks") return ones([n], { chunks: chunk }).sum();
  const x = random.random([n, n], { chunks: chunk, seed });
  if (kase === "random_mapblocks_add_sum") return x.mapBlocks((b) => b.add(1)).sum();
  if (kase === "random_mapblocks_add_sum_blocks") return x.mapBlocks((b) => b.add(1), { trace: false }).sum();
  throw new Error(`unknown case ${kase}`);
}

const out = { case: kase, engine, n, chunk };
if (engine === "local") {
  const t0 = performance.now();
  out.result = await build().compute({ workers: 2 });
  out.seconds = (performance.now() - t0) / 1000;
} else if (engine === "cluster") {
  const t0 = performance.now();
  const cluster = await LocalCluster.start({ workers: 2, threadsPerWorker: 1 });
  const client = await Client.connect(cluster);
  out.startSeconds = (performance.now() - t0) / 1000;
  try {
    const t1 = performance.now();
    out.result = await client.compute(build()).result();
    out.seconds = (performance.now() - t1) / 1000;
  } finally {
    await client.close();
    await cluster.close();
  }
} else if (engine === "ranks") {
  const run = fileURLToPath(new URL("../dist/run.js", import.meta.url));
  const script = fileURLToPath(new URL("./cluster_ranks_script.mjs", import.meta.url));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [run, "--np", "2", "--workers", "1", "--json", script, kase, String(n), String(chunk), String(seed)], { encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`run.js --np 2 exited ${r.status}: ${r.stderr.slice(-500)}`);
  const value = JSON.parse(r.stdout.trim().split("\n").at(-1)).result;
  out.result = value.result;
  out.seconds = value.seconds;
  out.startSeconds = (performance.now() - t0) / 1000 - value.seconds; // launching the ranks and their mesh, and ending
} else throw new Error(`unknown engine ${engine}`);
if (kase === "ones_tiny_tasks") out.tasksPerSecond = Math.round(n / chunk / out.seconds);
console.log(JSON.stringify(out));
process.exit(0);
