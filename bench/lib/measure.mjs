// Measuring helpers for the benchmark harness: run a command while sampling the peak RSS of its whole
// process tree, simple statistics, interleaved run order, and a description of the machine.
import { spawn, execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/** `root` and all its descendants, from the parent links in every /proc/PID/stat (about 2-3 ms of CPU). */
export function treePids(root) {
  const kids = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${name}/stat`, "latin1"); } catch { continue; } // exited meanwhile
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!kids.has(ppid)) kids.set(ppid, []);
    kids.get(ppid).push(Number(name));
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop();
    out.push(pid);
    todo.push(...(kids.get(pid) ?? []));
  }
  return out;
}

const PAGE_BYTES = 4096;

/** Process groups of the children runCommand started that are still running (killRunning stops them). */
const running = new Set();

/** SIGKILL to the process group of every child still running (on the harness's own SIGINT / SIGTERM). */
export function killRunning() {
  for (const pid of running) {
    try { process.kill(-pid, "SIGKILL"); } catch { /* already gone */ }
  }
  running.clear();
}

/**
 * The process name of the storage steps' memory pre-toucher (bench/peers/native.c pretouch): memory it touches
 * and frees before a timed write, so the write meets memory the host backs. It is not the engine's memory, so
 * it is left out of the step's peak RSS (the name is checked at every sample: the helper names itself at start).
 */
export const PRETOUCH_COMM = "pretouch";

/** Summed RSS in bytes of these pids (those that exited count 0, the pre-toucher too): /proc/PID/statm and comm, a few µs each. */
export function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "latin1").trimEnd() === PRETOUCH_COMM) continue;
      total += Number(readFileSync(`/proc/${pid}/statm`, "latin1").split(" ")[1]) * PAGE_BYTES;
    } catch { /* exited */ }
  }
  return total;
}


/** Seconds of CPU time the hypervisor gave to other guests (steal), summed over all CPUs, since boot. */
export function stealSeconds() {
  try {
    const f = readFileSync("/proc/stat", "latin1").split("\n")[0].trim().split(/\s+/); // "cpu user nice system idle iowait irq softirq steal"
    return Number(f[8] ?? 0) / 100; // USER_HZ is 100 on Linux
  } catch { return NaN; }
}

/**
 * Runs argv[0] with argv[1..], returns { stdout, stderr, code, signal, seconds, peakRssMiB, stealSeconds, timedOut }.
 * stealSeconds (host contention the guest can see) is often ~0 even on a noisy host: also run a spin control.
 * peakRssMiB is the largest sum of RSS over the process tree (children included), sampled every
 * `sampleMs`; a spike shorter than that can be missed. Never rejects on a non-zero exit: check `code`.
 * On timeout the whole process group gets SIGKILL (the child leads its own group, so only what we started).
 */
export function runCommand(argv, { env, cwd, timeoutMs = 600_000, sampleMs = 20, passStderr = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint(), steal0 = stealSeconds();
    const child = spawn(argv[0], argv.slice(1), {
      env: env ? { ...process.env, ...env } : process.env, cwd, detached: true, stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid) running.add(child.pid);
    let stdout = "", stderr = "", peak = 0, timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => { stderr += d; if (passStderr) process.stderr.write(d); }); // passStderr: progress of a long child
    // The sampler must not steal the CPU it measures (a full /proc scan is 2-3 ms, 10-15% of a core at 20 ms):
    // the tree is rescanned every 10th sample (200 ms: new children join then), the RSS read every time.
    let pids = [], n = 0;
    const sample = () => {
      if (!child.pid) return;
      if (n++ % 10 === 0) pids = treePids(child.pid);
      peak = Math.max(peak, rssBytes(pids));
    };
    const sampler = setInterval(sample, sampleMs);
    const killer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
    }, timeoutMs);
    child.on("error", (e) => { clearInterval(sampler); clearTimeout(killer); reject(e); });
    child.on("close", (code, signal) => {
      running.delete(child.pid);
      clearInterval(sampler);
      clearTimeout(killer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const steal = Math.round((stealSeconds() - steal0) * 100) / 100;
      resolve({ stdout, stderr, code, signal, seconds, peakRssMiB: Math.round((peak / 2 ** 20) * 10) / 10, stealSeconds: steal, timedOut });
    });
  });
}

/** Last line of stdout that parses as a JSON object, or null. Peers print one JSON line per result. */
export function lastJsonLine(stdout) {
  const lines = stdout.trim().split("\n").reverse();
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    try { return JSON.parse(line); } catch { /* not JSON: keep looking */ }
  }
  return null;
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export function minmax(values) {
  const v = values.filter((x) => Number.isFinite(x));
  return v.length ? { min: Math.min(...v), max: Math.max(...v) } : { min: NaN, max: NaN };
}

/** Run order for comparing engines on a noisy, shared host: A B A B ... so slow drift (another
 *  tenant, thermal state) hits every engine alike. Returns [{ item, rep }] with rep counting from 0. */
export function interleave(cases, reps) {
  const order = [];
  for (let rep = 0; rep < reps; rep++) for (const item of cases) order.push({ item, rep });
  return order;
}

function tryRun(file, args) {
  try { return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 30_000 }).trim(); }
  catch { return null; }
}

/** What the figures were measured on: CPU, cores, memory, load, and the versions of every engine present. */
export function machineInfo() {
  const cpuinfo = (() => { try { return readFileSync("/proc/cpuinfo", "utf8"); } catch { return ""; } })();
  const field = (name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(cpuinfo)?.[1]?.trim() ?? null;
  const flags = new Set((field("flags") ?? "").split(" "));
  const py = tryRun(process.env.TESSERA_BENCH_PYTHON || "/usr/bin/python3", ["-c",
    "import json,sys\nv={'python':sys.version.split()[0]}\nfor m in ('numpy','dask','distributed'):\n try: v[m]=__import__(m).__version__\n except Exception: v[m]=None\nprint(json.dumps(v))"]);
  return {
    cpuModel: field("model name") ?? os.cpus()[0]?.model ?? null,
    cpuFamily: field("cpu family"), cpuModelNumber: field("model"),
    simd: ["sse4_2", "avx", "avx2", "fma", "avx512f"].filter((f) => flags.has(f)),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version, v8: process.versions.v8,
    ...(py ? JSON.parse(py) : { python: null, numpy: null, dask: null, distributed: null }),
    gcc: tryRun("gcc", ["-dumpfullversion"]),
    kernel: os.release(),
  };
}
