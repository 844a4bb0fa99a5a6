// The cluster's benchmark (issue 11, "Performance"): the tutorial pipeline on a LocalCluster of 2 worker
// processes x 1 thread beside the same compute in one process (2 worker threads), under 2 ranks
// (`run.js --np 2 --workers 1`, the SPMD mode the cluster should match within 15%) and dask distributed's
// LocalCluster (2 workers x 1 thread), interleaved, medians of --reps.
//
//   node bench/cluster.mjs [--n 20000] [--chunk 2000] [--reps 3] [--cases a,b] [--no-dask] [--out cluster]
//                          [--load-max 1.0] [--max-wait 60]
//
// Before each measurement it waits for a 1-minute load average below --load-max, at most --max-wait
// seconds (then it measures anyway and the run is flagged contended).
// Writes bench/results/<out>.json and .md.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { interleave, lastJsonLine, machineInfo, median, runCommand } from "./lib/measure.mjs";
import { runDask } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", 20000));
const chunk = Number(opt("chunk", 2000));
const reps = Number(opt("reps", 3));
const cases = opt("cases", "random_mapblocks_add_sum,random_mapblocks_add_sum_blocks").split(",");
const dask = !args.includes("--no-dask");
const outName = opt("out", "cluster");
const loadMax = Number(opt("load-max", 1.0));
const maxWait = Number(opt("max-wait", 60));
const log = (s) => process.stderr.write(`cluster bench: ${s}\n`);
async function quiet() {
  const t0 = Date.now();
  while (os.loadavg()[0] > loadMax && Date.now() - t0 < maxWait * 1000) await new Promise((r) => setTimeout(r, 2000));
  return { load: os.loadavg()[0], contended: os.loadavg()[0] > loadMax };
}

const engines = ["local", "cluster", "ranks", ...(dask ? ["dask-distributed"] : [])];
const runs = [];
for (const { item: [kase, engine], rep } of interleave(cases.flatMap((c) => engines.map((e) => [c, e])), reps)) {
  let r;
  const q = await quiet();
  if (engine === "dask-distributed") {
    if (kase === "random_mapblocks_add_sum_blocks") continue; // dask's map_blocks always runs on real blocks: the same row as the other
    r = await runDask(kase, { n, chunk, scheduler: "distributed", workers: 2 });
  } else {
    const c = await runCommand([process.execPath, join(here, "cluster_case.mjs"), engine, kase, String(n), String(chunk)], { timeoutMs: 900_000 });
    r = { ...(lastJsonLine(c.stdout) ?? { error: c.stderr.slice(-500) }), harnessPeakRssMiB: c.peakRssMiB };
  }
  log(`${kase} ${engine} rep ${rep}: ${r.seconds ?? r.error ?? r.missing} s`);
  runs.push({ case: kase, engine, rep, ...q, ...r });
}
const rows = [];
for (const kase of cases) {
  for (const engine of engines) {
    const rs = runs.filter((r) => r.case === kase && r.engine === engine && Number.isFinite(r.seconds));
    if (!rs.length) continue;
    rows.push({
      case: kase, engine, seconds: median(rs.map((r) => r.seconds)), startSeconds: median(rs.map((r) => r.startSeconds)),
      peakRssMiB: median(rs.map((r) => r.harnessPeakRssMiB)), results: [...new Set(rs.map((r) => r.result))],
      contended: rs.filter((r) => r.contended).length,
    });
  }
}
const md = [
  `# Cluster benchmark (n = ${n}, chunks ${chunk}, medians of ${reps})`,
  "",
  "| case | engine | seconds | cluster start (s) | peak RSS, process tree (MiB) | result | contended runs |",
  "|---|---|---:|---:|---:|---|---:|",
  ...rows.map((r) => `| ${r.case} | ${r.engine} | ${r.seconds.toFixed(3)} | ${Number.isFinite(r.startSeconds) ? r.startSeconds.toFixed(2) : ""} | ${Math.round(r.peakRssMiB)} | ${r.results.join(", ")} | ${r.contended} |`),
  "",
  "Ratios (same run): cluster / ranks is the cluster's cost beside the SPMD mode (target within 1.15); dask / cluster is how many times faster than dask distributed (target >= 10).",
  "",
  "| case | cluster / ranks | cluster / local | dask distributed / cluster |",
  "|---|---:|---:|---:|",
  ...cases.map((kase) => {
    const s = (e) => rows.find((r) => r.case === kase && r.engine === e)?.seconds;
    const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? (a / b).toFixed(2) : "");
    return `| ${kase} | ${ratio(s("cluster"), s("ranks"))} | ${ratio(s("cluster"), s("local"))} | ${ratio(s("dask-distributed"), s("cluster"))} |`;
  }),
].join("\n");
console.log(md);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", `${outName}.json`), JSON.stringify({ machine: machineInfo(), n, chunk, reps, runs, rows }, null, 2));
writeFileSync(join(here, "results", `${outName}.md`), md + "\n");
