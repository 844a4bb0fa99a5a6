// The shared-memory transport's benchmark (issue 14): allreduce of one float64 (µs) and of 64 MiB (GB/s),
// bcast and gather of 1 MiB (µs), on 2 and 4 local ranks: tessera over shared memory, tessera over
// WebSockets (TESSERA_TRANSPORT=ws) and Open MPI (bench/peers/mpi_collectives.c, built with mpicc, run
// with mpirun --oversubscribe), interleaved in one run; medians over --reps runs of each.
//
//   node bench/shm.mjs [--reps 3] [--lat 2000] [--bw-mib 64] [--no-ws] [--tutorial-n 20000] [--out shm]
//
// Also the tutorial pipeline under `run.js --np 2 --workers 1` on each transport (elapsed seconds as
// run.js reports them; --tutorial-n 0 skips it).
//
// Writes bench/results/<out>.json and .md with the load average before and after each run.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { lastJsonLine, machineInfo, median, runCommand } from "./lib/measure.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const log = (s) => process.stderr.write(`shm-bench: ${s}\n`);
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const reps = Number(opt("--reps", 3));
const lat = Number(opt("--lat", 2000));
const bwMiB = Number(opt("--bw-mib", 64));
const out = opt("--out", "shm");
const withWs = !args.includes("--no-ws");
const tutorialN = Number(opt("--tutorial-n", 20000));
const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

function buildMpi() {
  try {
    execFileSync("which", ["mpicc", "mpirun"], { stdio: "ignore" });
  } catch {
    log("Open MPI is not installed (apt-get install -y openmpi-bin libopenmpi-dev): tessera only");
    return null;
  }
  const dir = join(here, ".build");
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, "mpi_collectives");
  execFileSync("mpicc", ["-O2", "-o", exe, join(here, "peers", "mpi_collectives.c")], { stdio: "inherit" });
  return exe;
}

async function tessera(P, transport) {
  const launch = `import(${JSON.stringify(join(root, "dist", "comm", "launch.js"))}).then((m) => m.launchLocal(${P}, ${JSON.stringify([String(lat), String(bwMiB), "5", "50"])}, { script: ${JSON.stringify(join(here, "shm_case.mjs"))}, env: { TESSERA_WORKERS: "1" } })).then((c) => process.exit(c))`;
  const r = await runCommand([process.execPath, "--input-type=module", "-e", launch], { env: { TESSERA_TRANSPORT: transport }, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`tessera ${transport} P=${P} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return lastJsonLine(r.stdout);
}

async function openmpi(exe, P) {
  const r = await runCommand(["mpirun", "--oversubscribe", "--allow-run-as-root", "-n", String(P), exe, String(lat), String(bwMiB), "5", "50"], {
    env: { OMPI_MCA_btl_vader_single_copy_mechanism: "none" }, // no CMA here (ptrace between sibling processes is not allowed)
    timeoutMs: 300_000,
  });
  if (r.code !== 0) throw new Error(`mpirun P=${P} exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return lastJsonLine(r.stdout);
}

const mpi = buildMpi();
const engines = ["tessera-shm", ...(withWs ? ["tessera-ws"] : []), ...(mpi ? ["openmpi"] : [])];
const runs = [];
for (let rep = 0; rep < reps; rep++) {
  for (const P of [2, 4]) {
    for (const e of engines) {
      const before = load();
      const res = e === "openmpi" ? await openmpi(mpi, P) : await tessera(P, e === "tessera-shm" ? "shm" : "ws");
      const row = { rep, P, engine: e, ...res, engineReported: res?.engine, load1Before: before[0], load1After: load()[0] };
      delete row.engineReported;
      runs.push({ ...row, engine: e });
      log(JSON.stringify(runs.at(-1)));
    }
  }
}

const tutorial = [];
for (let rep = 0; rep < reps && tutorialN > 0; rep++) {
  for (const transport of ["shm", "ws"]) {
    const before = load()[0];
    const r = await runCommand([process.execPath, join(root, "dist", "run.js"), "--np", "2", "--workers", "1", "--n", String(tutorialN), "--json"], { env: { TESSERA_TRANSPORT: transport }, timeoutMs: 600_000 });
    const j = lastJsonLine(r.stdout);
    tutorial.push({ rep, transport, seconds: j?.seconds, result: j?.result, load1Before: before, load1After: load()[0] });
    log(JSON.stringify(tutorial.at(-1)));
  }
}
const tutorialRows = ["shm", "ws"].map((t) => ({ transport: t, seconds: median(tutorial.filter((x) => x.transport === t).map((x) => x.seconds)) }));

const keys = ["lat_median_us", "lat_steady_median_us", "bw_gb_per_s", "bw_new_gb_per_s", "bcast_1mib_us", "bcast_1mib_slowest_us", "bcast_new_1mib_slowest_us", "gather_1mib_us", "gather_new_1mib_us"];
const summary = [];
for (const P of [2, 4]) {
  for (const e of engines) {
    const rs = runs.filter((r) => r.P === P && r.engine === e);
    const row = { P, engine: e, ok: rs.every((r) => r.lat_ok && r.bw_ok && r.gather_ok) };
    for (const k of keys) row[k] = Math.round(median(rs.map((r) => r[k])) * 1000) / 1000;
    row.load1 = [Math.min(...rs.map((r) => r.load1Before)), Math.max(...rs.map((r) => r.load1After))];
    summary.push(row);
  }
}
const machine = machineInfo();
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", `${out}.json`), JSON.stringify({ date: new Date().toISOString(), machine, reps, lat, bwMiB, summary, runs, tutorialN, tutorialRows, tutorial }, null, 2) + "\n");
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const lines = [
  `# Shared-memory transport vs WebSockets vs Open MPI (${new Date().toISOString().slice(0, 16)}Z)`,
  "",
  `${machine.cpuModel}, ${machine.cores} cores; Node ${machine.node}; medians of ${reps} interleaved runs; 1-min load average before/after each row's runs shown.`,
  `allreduce of one float64: median of ${lat} timed ops after 200 warm-up ones (right after start-up: on 2 cores the JIT's background compiles take a core from the ranks), and, the steady state, of 10,000 after 20,000 more (both engines alike); 64 MiB: median of 5, into one reused result array as MPI's receive buffer (tessera: \`{ out }\`), and (tessera) into a new array each time; bcast/gather of 1 MiB: median of 50 (each after a barrier), into buffers made once as MPI's (tessera: \`{ out }\`; bcast on rank 0, and on each rep's slowest rank), and (tessera) into new arrays each time.`,
  "",
  "| ranks | engine | allreduce 1×f64 (µs) | … steady state (µs) | allreduce 64 MiB (GB/s) | … into a new array (GB/s) | bcast 1 MiB, rank 0 (µs) | … slowest rank (µs) | … new arrays, slowest (µs) | gather 1 MiB (µs) | … into new arrays (µs) | results ok | load 1-min |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ...summary.map((r) => `| ${r.P} | ${r.engine} | ${fmt(r.lat_median_us, 2)} | ${fmt(r.lat_steady_median_us, 2)} | ${fmt(r.bw_gb_per_s, 2)} | ${fmt(r.bw_new_gb_per_s, 2)} | ${fmt(r.bcast_1mib_us, 0)} | ${fmt(r.bcast_1mib_slowest_us, 0)} | ${fmt(r.bcast_new_1mib_slowest_us, 0)} | ${fmt(r.gather_1mib_us, 0)} | ${fmt(r.gather_new_1mib_us, 0)} | ${r.ok} | ${r.load1.join("–")} |`),
  "",
  ...(tutorialN > 0 ? [
    `Tutorial pipeline, \`run.js --np 2 --workers 1 --n ${tutorialN}\` (median seconds; results equal: ${new Set(tutorial.map((x) => x.result)).size === 1}):`,
    "",
    "| transport | seconds |",
    "|---|---|",
    ...tutorialRows.map((r) => `| ${r.transport} | ${fmt(r.seconds, 3)} |`),
    "",
  ] : []),
];
writeFileSync(join(here, "results", `${out}.md`), lines.join("\n"));
process.stdout.write(lines.join("\n") + "\n");
