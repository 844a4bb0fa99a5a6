// The rank cases of the main harness (allreduce, scaling, startup): bench/ranks.mjs runs them as a child
// process (it waits for a quiet host, starts a private SLURM cluster for the srun rows, stops it), and
// this module turns its rows into the main table's chart rows and a markdown section.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RANK_CASES } from "./cases.mjs";
import { runCommand } from "./measure.mjs";

const bench = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Arguments of bench/ranks.mjs for the main harness's options. --quick: a smoke run of a few seconds. */
export function ranksArgs(o, cases) {
  const sections = [...new Set(cases.map((c) => RANK_CASES[c].section))];
  const args = ["--sections", sections.join(","), "--out", `${o.out}-ranks`];
  if (o.quick) {
    // smoke: the harness works end to end (timings meaningless), no SLURM cluster, no waiting for quiet
    args.push("--reps", "1", "--lat-iters", "100", "--bw-mib", "4", "--n", "4000", "--max-wait", "0", "--no-slurm");
  } else {
    args.push("--reps", String(o.reps), "--n", String(Math.max(...o.sizes)));
  }
  return args;
}

/** Runs bench/ranks.mjs; resolves to { rows, meta, error? } read from its JSON output. */
export async function runRankCases(o, cases, log) {
  const args = ranksArgs(o, cases);
  log(`bench: rank cases (${cases.join(", ")}): node bench/ranks.mjs ${args.join(" ")}`);
  const r = await runCommand([process.execPath, join(bench, "ranks.mjs"), ...args], { timeoutMs: 3600_000, passStderr: true });
  const path = join(bench, "results", `${o.out}-ranks.json`);
  if (r.code !== 0 || !existsSync(path)) {
    return { error: `bench/ranks.mjs exit ${r.code ?? r.signal}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  }
  const { rows, meta } = JSON.parse(readFileSync(path, "utf8"));
  return { rows, meta, file: `${o.out}-ranks` };
}

/** Rank rows -> main-table rows for the SVG chart (throughput: higher is better in every unit). */
export function chartRows(rankRows) {
  const out = [];
  const groups = new Map();
  for (const r of rankRows) {
    if (!Number.isFinite(r.value) || r.section === "startup") continue;
    let throughput, unit, engine, label = r.engine;
    if (r.unit === "µs") { throughput = 1e6 / r.value; unit = "ops/s"; }
    else if (r.unit === "GB/s") { throughput = r.value * 1e9; unit = "GB/s"; }
    else if (r.section === "pipeline" && r.unit === "s") {
      const n = Number(/n=(\d+)/.exec(r.what)?.[1]);
      const work = r.key.startsWith("gensum") ? Number(r.what.match(/([\d.e+]+) doubles/)?.[1]) : n * n;
      throughput = work / r.value; unit = "el/s";
    } else continue;
    const group = r.key.startsWith("gensum") ? groups.get("pipeline") ?? r.what : r.what;
    if (r.section === "pipeline" && !r.key.startsWith("gensum")) groups.set("pipeline", r.what);
    if (r.engine === "tessera" || r.key === "np2-w1") engine = "tessera";
    else engine = r.key.startsWith("mpi4py") ? "mpi4py" : r.key.startsWith("gensum") ? `native-gensum-${r.key.slice(7)}` : `tessera-${r.key}`;
    if (r.key === "np2-w1") label = "tessera 2 ranks × 1 worker";
    else if (r.key === "np1-w1") label = "tessera 1 rank × 1 worker";
    else if (r.key === "np1-w2") label = "tessera 1 rank × 2 workers";
    else if (r.key.startsWith("gensum")) label = `C gensum ${r.key.endsWith("1t") ? "1 thread" : "2 threads"} (limit)`;
    out.push({ group, case: r.section === "pipeline" ? "scaling" : "allreduce", title: group, engine, label, status: "ok", throughput, unit, median: r.value });
  }
  for (const r of out) {
    const t = out.find((x) => x.group === r.group && x.engine === "tessera");
    r.vsTessera = t ? t.throughput / r.throughput : NaN;
  }
  return out;
}
