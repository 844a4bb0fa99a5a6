// The dashboard's overhead (issue 13): the tutorial pipeline with the dashboard open in a browser beside
// the same compute with no dashboard at all, in one process, interleaved (without, with, with, without,
// ...), medians of --reps.
//
//   node bench/dashboard-overhead.mjs [--n 20000] [--chunk 2000] [--reps 9] [--cases fused,blocks] [--out dashboard]
//
// "with": dashboard.start() and a page in Debian's headless Chromium (/usr/bin/chromium, a process of its
// own opened on the link, as a person's browser is: nothing drives it from the computing process, whose
// CPU would otherwise count the driver's protocol traffic) connected over the WebSocket and drawing
// before the compute starts. "without": no dashboard, no observer (the runs build no events), and the
// browser stopped (SIGSTOP: it takes no CPU). The browser starts once (a fresh one spends seconds of CPU
// on its start-up); each "with" starts a dashboard on the same port and token, which the page's
// reconnection finds.
// Cases: fused = random.random([n, n]).add(1).sum() (README's tutorial pipeline, one fused task per chunk);
// blocks = the same through mapBlocks on real blocks ({ trace: false }: a materialized block per task).
// Writes bench/results/<out>.json and .md.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tessera from "../dist/index.js";
import { machineInfo, median, minmax } from "./lib/measure.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const n = Number(opt("n", 20000));
const chunk = Number(opt("chunk", 2000));
const reps = Number(opt("reps", 9));
const cases = opt("cases", "fused,blocks").split(",");
const outName = opt("out", "dashboard");

const profile = mkdtempSync(join(tmpdir(), "tessera-bench-chromium-"));
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, "--window-size=1280,1000"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds used so far by this run's Chromium (its processes carry the profile directory in their command line). */
function browserPids() {
  const pids = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(profile)) pids.push(Number(p));
    } catch {
      /* it ended meanwhile */
    }
  }
  return pids;
}
function browserCpu() {
  let ticks = 0;
  for (const p of browserPids()) {
    try {
      const st = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* it ended meanwhile */
    }
  }
  return ticks / 100;
}
/** Freezes or thaws every process of the browser this run started. */
function browserSignal(sig) {
  for (const p of browserPids()) {
    try {
      process.kill(p, sig);
    } catch {
      /* it ended meanwhile */
    }
  }
}

// one port and token for every "with": the page reconnects to each new dashboard by itself
const first = await tessera.dashboard.start({ port: 0, log: null });
const PORT = first.port;
const TOKEN = first.token;
const URL_ = first.url;
const browserProc = spawn("/usr/bin/chromium", [...CHROMIUM_FLAGS, URL_], { stdio: "ignore" });
for (let i = 0; i < 600 && first.clients === 0; i++) await sleep(50);
if (first.clients === 0) throw new Error("the browser's page never connected to the dashboard");
await sleep(3000); // its start-up work done
await first.close();
browserSignal("SIGSTOP");

const pipelines = {
  fused: () => tessera.random.random([n, n], { chunks: chunk, seed: 1 }).add(1).sum(),
  blocks: () => tessera.random.random([n, n], { chunks: chunk, seed: 1 }).mapBlocks((b) => b.add(1), { trace: false }).sum(),
};

async function measure(pipeline, watched) {
  let d = null;
  if (watched) {
    d = await tessera.dashboard.start({ port: PORT, token: TOKEN, log: null });
    if (d.port !== PORT) throw new Error(`port ${PORT} was taken meanwhile`);
    browserSignal("SIGCONT");
    for (let i = 0; i < 600 && d.clients === 0; i++) await sleep(50);
    if (d.clients === 0) throw new Error("the browser's page never connected to the dashboard");
    await sleep(500); // a few updates drawn: the page is live, as a person has it open
  }
  const b0 = watched ? browserCpu() : 0;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await pipelines[pipeline]().compute();
  const seconds = (performance.now() - t0) / 1000;
  const u = process.cpuUsage(u0);
  const cpu = (u.user + u.system) / 1e6; // this process: the compute's worker threads and the dashboard's server
  const browser = watched ? browserCpu() - b0 : 0;
  if (watched) {
    if (d.clients === 0) throw new Error("the page left during the compute");
    await d.close();
    await sleep(100);
    browserSignal("SIGSTOP");
  }
  return { seconds, value, cpu, browser };
}

const rows = [];
for (const c of cases) {
  if (!pipelines[c]) throw new Error(`unknown case ${c} (fused, blocks)`);
  await measure(c, false); // warm-up: workers started, kernels compiled
  await measure(c, true);
  const times = { without: [], with: [] };
  const cpu = { without: [], with: [], browser: [] };
  const ratios = [];
  for (let r = 0; r < reps; r++) {
    const order = r % 2 ? ["with", "without"] : ["without", "with"];
    const pair = {};
    for (const which of order) {
      const m = await measure(c, which === "with");
      times[which].push(m.seconds);
      cpu[which].push(m.cpu);
      if (which === "with") cpu.browser.push(m.browser);
      pair[which] = m.seconds;
    }
    ratios.push(pair.with / pair.without); // a pair ran side by side: drift of the host hits both
  }
  const without = median(times.without);
  const withDash = median(times.with);
  const pairedPercent = (median(ratios) - 1) * 100;
  // CPU taken from the compute: the browser's, and what this process spent beyond the unwatched compute
  const cpuWithout = median(cpu.without);
  const cpuPercent = ((median(cpu.browser) + median(cpu.with) - cpuWithout) / cpuWithout) * 100;
  rows.push({ case: c, n, chunk, tasks: (n / chunk) ** 2, reps, without, with: withDash, overheadPercent: ((withDash / without) - 1) * 100, pairedPercent, cpuPercent, browserCpu: median(cpu.browser), cpuWithout, cpuWith: median(cpu.with), times, cpu, ratios, spread: { without: minmax(times.without), with: minmax(times.with) } });
  console.log(`${c}: without ${without.toFixed(3)} s, with ${withDash.toFixed(3)} s: ${(((withDash / without) - 1) * 100).toFixed(1)} % (median of paired ratios ${pairedPercent.toFixed(1)} %; CPU ${cpuPercent.toFixed(1)} %)`);
}

browserSignal("SIGCONT");
browserProc.kill(); // (the browser this run started, by its pid)
await new Promise((r) => (browserProc.exitCode !== null ? r() : browserProc.once("exit", r)));
rmSync(profile, { recursive: true, force: true });
await tessera.shutdown();

const pct = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;
const machine = machineInfo();
const out = join(here, "results");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `${outName}.json`), JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2) + "\n");
const md = [
  `# Dashboard overhead (${new Date().toISOString().slice(0, 10)})`,
  "",
  `\`node bench/dashboard-overhead.mjs --n ${n} --chunk ${chunk} --reps ${reps}\`: one process, ${tessera.world.size} rank, the default worker pool; "with" = dashboard started and a headless Chromium (its own process) connected and drawing; "without" = no dashboard. Interleaved, medians of ${reps}.`,
  "",
  `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, load average at the end ${machine.loadavg.join(" / ")}.`,
  "",
  "| case | tasks | without (s) | with (s) | wall: overhead of medians | wall: median of paired ratios | CPU: compute's (s) | CPU: browser + server (s) | CPU overhead | without min–max | with min–max |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.case} | ${r.tasks} | ${r.without.toFixed(3)} | ${r.with.toFixed(3)} | ${pct(r.overheadPercent)} | ${pct(r.pairedPercent)} | ${r.cpuWithout.toFixed(3)} | ${(r.browserCpu + r.cpuWith - r.cpuWithout).toFixed(3)} | ${pct(r.cpuPercent)} | ${r.spread.without.min.toFixed(3)}–${r.spread.without.max.toFixed(3)} | ${r.spread.with.min.toFixed(3)}–${r.spread.with.max.toFixed(3)} |`),
  "",
  "CPU overhead: the browser's CPU seconds during the watched compute (its processes, from /proc) plus what this process spent beyond the unwatched compute, over the unwatched compute's CPU seconds (medians). On a machine whose cores the compute fills, that is what the watched compute loses. The browser's part is spent per second (per frame drawn), so a host that other tenants slow down inflates it with the wall time; the compute's own CPU seconds change little.",
  "",
].join("\n");
writeFileSync(join(out, `${outName}.md`), md);
console.log(md);
