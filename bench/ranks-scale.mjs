// Ranks at scale (issue 16), simulated on one machine: worlds of P = 2..256 local ranks with one worker
// each (`node dist/run.js --np P --workers 1`), beside Open MPI (`mpirun --oversubscribe`, a tiny C
// program built with mpicc) on the same P when it is installed.
//
//   node bench/ranks-scale.mjs [--sizes 2,4,8,16,32,64,128,256] [--iters K] [--kill 128] [--slurm 256]
//                              [--no-mpi] [--out ranks-scale]
//
// Per P: start-up (the launcher's start until the slowest rank's world is ready), wall time of the whole
// job, allreduce latency of one float64 (rank 0's mean over K after K/5 warm-up ones; K = --iters, by default
// 200 up to P = 32, then 6400 / P: every rank is a process on 2 cores), CPU time per rank per allreduce, links, open file
// descriptors and RSS per rank (mean and max over the ranks); then the fitted growth of latency, fds and
// RSS: the exponent b of a P^b fit and the slope per doubling of P, over P >= 16.
// --kill P: a P-rank job whose rank P/2+1 is SIGKILLed (by PID) while the others wait in an allreduce:
// how long until every other rank has failed with RANK_LOST naming it.
// --slurm P: start-up of P ranks under srun on a private one-node SLURM cluster (scripts/slurm/cluster.sh
// with TESSERA_SLURM_CPUS=P, stopped afterwards), when SLURM is installed.
// The host has 2 cores shared with others: every rank is a process, so both sides are oversubscribed and
// pay for process wake-ups. Writes bench/results/<out>.json and .md.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchLocal } from "../dist/comm/launch.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const RUN = join(root, "dist", "run.js");
const CASE = join(here, "ranks_scale_case.mjs");
const HANG = join(root, "test", "cli", "fixtures", "scale.mjs");
const log = (s) => process.stderr.write(`ranks-scale: ${s}\n`);

function parseArgs(argv) {
  const o = { sizes: [2, 4, 8, 16, 32, 64, 128, 256], iters: null, kill: 128, slurm: 256, mpi: true, out: "ranks-scale" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === "--sizes") o.sizes = v().split(",").filter(Boolean).map(Number);
    else if (a === "--iters") o.iters = Number(v());
    else if (a === "--kill") o.kill = Number(v());
    else if (a === "--slurm") o.slurm = Number(v());
    else if (a === "--no-mpi") o.mpi = false;
    else if (a === "--out") o.out = v();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/** Runs a command; resolves { code, stdout, stderr, ms }. */
function run(cmd, args, { env = {}, cwd = root, timeoutMs = 900_000 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env, BENCH_T0: String(t0) }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One job's per-rank lines summarised. */
function summarise(P, r) {
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("{\"rank\"")).map((l) => JSON.parse(l));
  if (r.code !== 0 || lines.length !== P) return { P, ok: false, code: r.code, got: lines.length, err: r.stderr.slice(-400) };
  const r0 = lines.find((l) => l.rank === 0);
  return {
    P, ok: true, wallS: r.ms / 1000, startupS: Math.max(...lines.map((l) => l.startupMs)) / 1000, allreduceUs: r0.allreduceUs,
    cpuUs: mean(lines.map((l) => l.cpuUs)),
    linksMax: lines.some((l) => "links" in l) ? Math.max(...lines.map((l) => l.links)) : null,
    fdsMean: mean(lines.map((l) => l.fds)), fdsMax: Math.max(...lines.map((l) => l.fds)),
    rssMeanMiB: mean(lines.map((l) => l.rssMiB)), rssMaxMiB: Math.max(...lines.map((l) => l.rssMiB)),
  };
}

/** Least squares of y on x: slope. */
function slope(xs, ys) {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => ((num += (x - mx) * (ys[i] - my)), (den += (x - mx) ** 2)));
  return num / den;
}

/** Growth of `key` over the rows with P >= 16: the exponent of P and the change per doubling. */
function growth(rows, key) {
  const pts = rows.filter((r) => r.ok && r.P >= 16 && r[key] > 0);
  if (pts.length < 2) return null;
  const lx = pts.map((r) => Math.log2(r.P));
  return { exponent: slope(lx, pts.map((r) => Math.log2(r[key]))), perDoubling: slope(lx, pts.map((r) => r[key])) };
}

function buildMpi() {
  try {
    execFileSync("which", ["mpicc", "mpirun"], { stdio: "ignore" });
  } catch {
    log("Open MPI is not installed (apt-get install -y --no-install-recommends openmpi-bin libopenmpi-dev): tessera only");
    return null;
  }
  const out = join(here, ".build", "mpi_allreduce_scale");
  mkdirSync(dirname(out), { recursive: true });
  execFileSync("mpicc", ["-O2", "-o", out, join(here, "peers", "mpi_allreduce_scale.c")]);
  return out;
}

async function killTest(P) {
  const victim = Math.floor(P / 2) + 1;
  const ready = new Map(); // rank -> pid
  const stops = new Map(); // rank -> { code, message, t }: each rank's own line saying why it stops, when it came
  const lines = (stream, each) => {
    let buf = "";
    stream.on("data", (d) => {
      buf += d;
      for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) each(buf.slice(0, i));
    });
  };
  const done = launchLocal(P, ["--workers", "1", "--timeout", "600", HANG, "hang"], {
    stdio: ["ignore", "pipe", "pipe"], env: { FIX_VICTIM: String(victim) }, stopGraceMs: 60_000,
    onSpawn: (child) => {
      lines(child.stdout, (l) => l.startsWith("{") && ((o) => o.event === "ready" && ready.set(o.rank, o.pid))(JSON.parse(l)));
      lines(child.stderr, (l) => {
        const m = /^run\.js: ([A-Z_]+): (.*); rank (\d+) stops$/.exec(l);
        if (m) stops.set(Number(m[3]), { code: m[1], message: m[2], t: Date.now() });
      });
    },
  });
  const t = Date.now();
  while (ready.size < P && Date.now() - t < 600_000) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  process.kill(ready.get(victim), "SIGKILL");
  await done;
  const named = [...stops.values()].filter((x) => x.code === "RANK_LOST" && x.message.includes(`rank ${victim} was lost`));
  const ms = named.map((x) => x.t - t0);
  return { P, victim, noticed: named.length, of: P - 1, firstMs: Math.min(...ms), lastMs: Math.max(...ms) };
}

async function slurmStartup(P) {
  if (spawnSync("which", ["srun"]).status !== 0) return { P, skipped: "srun is not installed" };
  const CLUSTER = join(root, "scripts", "slurm", "cluster.sh");
  const state = mkdtempSync(join(os.tmpdir(), "tessera-slurm-bench-"));
  const work = mkdtempSync(join(os.tmpdir(), "tessera-slurm-work-"));
  const env = { PATH: `${process.env.PATH}:/usr/sbin:/sbin`, TESSERA_SLURM_CPUS: String(P), TESSERA_SLURM_TIMEOUT: "60" };
  try {
    const s = spawnSync("bash", [CLUSTER, "start", state], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
    const conf = /^export SLURM_CONF=(\S+)$/m.exec(s.stdout ?? "")?.[1];
    if (!conf) return { P, skipped: `cluster.sh start failed: ${(s.stderr ?? "").slice(-300)}` };
    const clean = {};
    for (const [k, v] of Object.entries(process.env)) if (!/^(SLURM_|TESSERA_)/.test(k)) clean[k] = v;
    const r = await run("srun", ["-n", String(P), process.execPath, RUN, "--workers", "1", "--timeout", "600", CASE, "20"], {
      cwd: work, env: { ...clean, ...env, SLURM_CONF: conf },
    });
    return { ...summarise(P, r), how: "srun" };
  } finally {
    spawnSync("bash", [CLUSTER, "stop", state], { env: { ...process.env, ...env }, timeout: 60_000 });
    rmSync(state, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

const o = parseArgs(process.argv.slice(2));
const mpi = o.mpi ? buildMpi() : null;
const rows = [];
const itersFor = (P) => o.iters ?? Math.max(20, Math.min(200, Math.round(6400 / P)));
for (const P of o.sizes) {
  const iters = itersFor(P);
  log(`tessera P=${P} (${iters} allreduces)`);
  const t = summarise(P, await run(process.execPath, [RUN, "--np", String(P), "--workers", "1", "--timeout", "600", CASE, String(iters)]));
  log(JSON.stringify(t));
  let m = null;
  if (mpi) {
    log(`Open MPI P=${P}`);
    m = summarise(P, await run("mpirun", ["--oversubscribe", "--allow-run-as-root", "-np", String(P), mpi, String(iters)], { env: { OMPI_MCA_btl_vader_single_copy_mechanism: "none" } }));
    log(JSON.stringify(m));
  }
  rows.push({ P, tessera: t, mpi: m });
}
const fit = {
  tessera: { allreduceUs: growth(rows.map((r) => r.tessera), "allreduceUs"), cpuUs: growth(rows.map((r) => r.tessera), "cpuUs"), fdsMax: growth(rows.map((r) => r.tessera), "fdsMax"), rssMeanMiB: growth(rows.map((r) => r.tessera), "rssMeanMiB"), startupS: growth(rows.map((r) => r.tessera), "startupS") },
  mpi: mpi ? { allreduceUs: growth(rows.map((r) => r.mpi), "allreduceUs"), cpuUs: growth(rows.map((r) => r.mpi), "cpuUs"), fdsMax: growth(rows.map((r) => r.mpi), "fdsMax") } : null,
};
const kill = o.kill > 0 ? (log(`kill test P=${o.kill}`), await killTest(o.kill)) : null;
if (kill) log(JSON.stringify(kill));
const slurm = o.slurm > 0 ? (log(`srun P=${o.slurm}`), await slurmStartup(o.slurm)) : null;
if (slurm) log(JSON.stringify(slurm));

const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(d));
const cell = (s, k, d) => (s?.ok ? f(s[k], d) : s ? `failed (${s.code}, ${s.got} ranks)` : "–");
let md = `# Ranks at scale (issue 16): ${new Date().toISOString().slice(0, 10)}\n\n`;
md += `Host: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, shared; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}.\n`;
md += `Command: \`node bench/ranks-scale.mjs ${process.argv.slice(2).join(" ")}\`. One run per P; timed allreduces of one float64 per P: ${o.sizes.map((P) => `${P}: ${itersFor(P)}`).join(", ")}.\n\n`;
md += "| P | start-up s, tessera / Open MPI | wall s | allreduce 1×f64 µs | CPU per rank per allreduce µs | links max (tessera) | fds per rank max | RSS per rank MiB (mean) |\n|---|---|---|---|---|---|---|---|\n";
for (const { P, tessera: t, mpi: m } of rows) {
  md += `| ${P} | ${cell(t, "startupS", 2)} / ${cell(m, "startupS", 2)} | ${cell(t, "wallS", 1)} / ${cell(m, "wallS", 1)} | ${cell(t, "allreduceUs", 0)} / ${cell(m, "allreduceUs", 1)} | ${cell(t, "cpuUs", 0)} / ${cell(m, "cpuUs", 1)} | ${t.ok ? t.linksMax : "–"} | ${cell(t, "fdsMax", 0)} / ${cell(m, "fdsMax", 0)} | ${cell(t, "rssMeanMiB", 0)} / ${cell(m, "rssMeanMiB", 0)} |\n`;
}
const g = (x) => (x ? `P^${f(x.exponent, 2)} (${f(x.perDoubling, 1)} per doubling)` : "–");
md += `\nFitted growth over P >= 16 (least squares on log2 P): tessera allreduce ${g(fit.tessera.allreduceUs)} µs, CPU per rank per allreduce ${g(fit.tessera.cpuUs)} µs, fds ${g(fit.tessera.fdsMax)}, RSS ${g(fit.tessera.rssMeanMiB)} MiB, start-up ${g(fit.tessera.startupS)} s`;
md += fit.mpi ? `; Open MPI allreduce ${g(fit.mpi.allreduceUs)} µs, CPU ${g(fit.mpi.cpuUs)} µs, fds ${g(fit.mpi.fdsMax)}.\n` : ".\n";
if (kill) md += `\nKilled rank: in a ${kill.P}-rank job, rank ${kill.victim} SIGKILLed while the others waited in an allreduce: ${kill.noticed} of ${kill.of} ranks failed with RANK_LOST naming it, the first after ${kill.firstMs} ms, the last after ${kill.lastMs} ms.\n`;
if (slurm) md += slurm.skipped ? `\nsrun: skipped (${slurm.skipped}).\n` : `\nsrun -n ${slurm.P} on the local one-node SLURM (file-mode rendezvous in a shared directory): ${slurm.ok ? `start-up ${f(slurm.startupS, 2)} s, wall ${f(slurm.wallS, 1)} s, allreduce ${f(slurm.allreduceUs, 0)} µs, fds max ${slurm.fdsMax}, RSS mean ${f(slurm.rssMeanMiB, 0)} MiB` : `failed (${slurm.code}, ${slurm.got} ranks): ${slurm.err}`}.\n`;
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(join(here, "results", `${o.out}.json`), JSON.stringify({ rows, fit, kill, slurm }, null, 2) + "\n");
writeFileSync(join(here, "results", `${o.out}.md`), md);
process.stdout.write(md);
if (existsSync(join(here, ".build"))) log(`wrote bench/results/${o.out}.md`);
