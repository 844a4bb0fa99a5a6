// SlurmCluster from a login node's point of view (issue 11, "Performance"): the time from scale(2) to the
// first result, against real SLURM. Uses the cluster SLURM_CONF points at, else starts the one-node
// cluster of scripts/slurm/cluster.sh in a private state directory (and stops it at the end).
//
//   node bench/slurm-cluster.mjs [--reps 3] [--n 4000] [--chunk 1000] [--out slurm-cluster]
//
// Each rep: SlurmCluster.start (scheduler + token file), scale(2) (2 sbatch jobs of 1 core), then the
// tutorial pipeline x.mapBlocks(b => b.add(1)).sum(); reported: submit (scale() returning), first worker
// joined, both joined, first result; then close() (scancel) and how long it took. dask-jobqueue is not
// installable here (not in Debian; PyPI is unreachable), so no peer row.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, SlurmCluster, random } from "../dist/index.js";
import { machineInfo, median } from "./lib/measure.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const reps = Number(opt("reps", 3));
const n = Number(opt("n", 4000));
const chunk = Number(opt("chunk", 1000));
const outName = opt("out", "slurm-cluster");
const log = (s) => process.stderr.write(`slurm-cluster bench: ${s}\n`);

let state = null;
if (!process.env.SLURM_CONF) {
  state = mkdtempSync(join(tmpdir(), "tessera-bench-slurm-"));
  const r = spawnSync("bash", [join(here, "..", "scripts", "slurm", "cluster.sh"), "start", state], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cluster.sh start: ${r.stderr}`);
  process.env.SLURM_CONF = /^export SLURM_CONF=(\S+)$/m.exec(r.stdout)[1];
}
const work = mkdtempSync(join(tmpdir(), "tessera-bench-slurm-work-"));
const runs = [];
try {
  for (let rep = 0; rep < reps; rep++) {
    const cluster = await SlurmCluster.start({ cores: 1, memory: "1 GB", walltime: "00:10:00", interface: "lo", pollMs: 500, sharedDirectory: join(work, "shared"), logDirectory: join(work, "logs"), log: () => {} });
    const client = await Client.connect(cluster);
    const joins = [];
    cluster.scheduler.onWorkers((ev) => ev === "join" && joins.push(performance.now()));
    try {
      const t0 = performance.now();
      await cluster.scale(2);
      const submitted = performance.now();
      const x = random.random([n, n], { chunks: chunk, seed: rep + 1 });
      const result = await client.compute(x.mapBlocks((b) => b.add(1)).sum()).result();
      const first = performance.now();
      await cluster.waitForWorkers(2, 60_000);
      const r = { rep, submitSeconds: (submitted - t0) / 1000, firstWorkerSeconds: (joins[0] - t0) / 1000, bothWorkersSeconds: (joins[1] - t0) / 1000, firstResultSeconds: (first - t0) / 1000, result };
      const c0 = performance.now();
      await client.close();
      await cluster.close();
      r.closeSeconds = (performance.now() - c0) / 1000;
      runs.push(r);
      log(JSON.stringify(r));
    } finally {
      await client.close();
      await cluster.close();
    }
  }
} finally {
  if (state) {
    spawnSync("bash", [join(here, "..", "scripts", "slurm", "cluster.sh"), "stop", state], { encoding: "utf8" });
    rmSync(state, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
}
const m = (k) => median(runs.map((r) => r[k])).toFixed(2);
const md = [
  `# SlurmCluster: scale(2) to the first result (one-node SLURM on loopback; tutorial ${n}², chunks ${chunk}; medians of ${reps})`,
  "",
  "| scale() returns (2 jobs submitted) | first worker joined | both joined | first result | close() (scancel, jobs gone) |",
  "|---:|---:|---:|---:|---:|",
  `| ${m("submitSeconds")} s | ${m("firstWorkerSeconds")} s | ${m("bothWorkersSeconds")} s | ${m("firstResultSeconds")} s | ${m("closeSeconds")} s |`,
  "",
  "dask-jobqueue: not installable on this machine (not in Debian; PyPI unreachable): no peer row.",
].join("\n");
console.log(md);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", `${outName}.json`), JSON.stringify({ machine: machineInfo(), n, chunk, reps, runs }, null, 2));
writeFileSync(join(here, "results", `${outName}.md`), md + "\n");
process.exit(0);
