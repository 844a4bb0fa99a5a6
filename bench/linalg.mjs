#!/usr/bin/env node
// Linear algebra and scans beside numpy and dask, in one run (issue 12's performance section):
// every measurement in a fresh child process, reps interleaved, medians and ratios reported, each result
// checked by its engine (a wrong result is reported as such, never as a time).
//
//   node bench/linalg.mjs [--quick] [--reps 3] [--cases matmul,qr,cumsum0] [--out linalg]
//
// numpy runs with OpenBLAS when Debian's libopenblas0-pthread is installed (without it, the reference
// BLAS: about 50x slower); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset in the peers' environment
// alone (with them OpenBLAS picks a slower kernel on some VMs). Debian's OpenBLAS 0.3.21 does not know
// the newest CPUs and falls back to its generic "Prescott" kernels (5x slower here): then the peers get
// OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2), as the CPU allows. The core is reported.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const quick = args.includes("--quick");
const reps = Number(opt("--reps", quick ? 1 : 3));
const outName = opt("--out", quick ? "linalg-quick" : "linalg");
const PY = process.env.TESSERA_BENCH_PYTHON || "/usr/bin/python3";
const pyEnv = { ...process.env };
delete pyEnv.OPENBLAS_CORETYPE;
delete pyEnv.OPENBLAS_L2_SIZE;

/** The OpenBLAS core the peers run: the detected one, or the best the CPU allows if detection fell back. */
function openblasCore() {
  const probe = (env) => {
    const r = spawnSync(PY, ["-c", "import numpy as np; a = np.ones((64, 64)); a @ a"], { encoding: "utf8", env: { ...env, OPENBLAS_VERBOSE: "2" } });
    return /Core:\s*(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "unknown";
  };
  const detected = probe(pyEnv);
  const flags = (() => {
    try {
      return readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return "";
    }
  })();
  if (detected === "Prescott" && /\bavx512f\b/.test(flags)) pyEnv.OPENBLAS_CORETYPE = "SkylakeX";
  else if (detected === "Prescott" && /\bavx2\b/.test(flags)) pyEnv.OPENBLAS_CORETYPE = "Haswell";
  return pyEnv.OPENBLAS_CORETYPE ? `${probe(pyEnv)} (set: detection gave ${detected})` : detected;
}
const core = openblasCore();
const only = opt("--cases", null)?.split(",");

const S = quick
  ? { matmul: [800, 200], qr: [200_000, 20_000, 50], cumsum0: [4000, 1000] }
  : { matmul: [4000, 1000], qr: [2_000_000, 100_000, 50], cumsum0: [20000, 2000] };

/** The configurations of one run: [label, argv, env, flops or elements]. */
const configs = [
  ["matmul", "tessera 1 worker", ["node", join(here, "linalg_case.mjs"), "matmul", S.matmul[0], S.matmul[1], 1]],
  ["matmul", "tessera 2 workers", ["node", join(here, "linalg_case.mjs"), "matmul", S.matmul[0], S.matmul[1], 2]],
  // the canonical arithmetic (bit-exact): natively (the GEMM addon's kernel), and the wasm kernel
  ["matmul", "tessera 2 workers, plain native", ["node", join(here, "linalg_case.mjs"), "matmul", S.matmul[0], S.matmul[1], 2], { TESSERA_GEMM: "plain" }],
  ["matmul", "tessera 2 workers, plain wasm", ["node", join(here, "linalg_case.mjs"), "matmul", S.matmul[0], S.matmul[1], 2], { TESSERA_GEMM: "plain", TESSERA_KERNELS: "wasm" }],
  ["matmul", "numpy", [PY, join(here, "peers/linalg_peer.py"), "numpy", "matmul", S.matmul[0]]],
  ["matmul", "dask threads", [PY, join(here, "peers/linalg_peer.py"), "dask", "matmul", S.matmul[0], S.matmul[1]]],
  ["qr", "tessera 2 workers", ["node", join(here, "linalg_case.mjs"), "qr", S.qr[0], S.qr[1], 2, S.qr[2]]],
  ["qr", "dask threads", [PY, join(here, "peers/linalg_peer.py"), "dask", "qr", S.qr[0], S.qr[1], S.qr[2]]],
  ["cumsum0", "tessera 2 workers", ["node", join(here, "linalg_case.mjs"), "cumsum0", S.cumsum0[0], S.cumsum0[1], 2]],
  ["cumsum0", "dask threads", [PY, join(here, "peers/linalg_peer.py"), "dask", "cumsum0", S.cumsum0[0], S.cumsum0[1]]],
];
const TOLERANCE = { matmul: 1e-9, qr: 1e-9, cumsum0: 1e-3 };

function runOnce([caseName, engine, argv, env]) {
  const [cmd, ...rest] = argv;
  const r = spawnSync(cmd === "node" ? process.execPath : cmd, rest.map(String), {
    encoding: "utf8", env: cmd === "node" ? { ...process.env, ...env } : pyEnv, timeout: 1_800_000, maxBuffer: 1 << 24,
  });
  const line = (r.stdout || "").trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.status !== 0 || !line) return { caseName, engine, error: `exit ${r.status}: ${(r.stderr || "").trim().split("\n").slice(-3).join(" | ")}` };
  const o = JSON.parse(line);
  if (!(o.check <= TOLERANCE[caseName])) return { caseName, engine, error: `wrong result (check ${o.check} > ${TOLERANCE[caseName]})`, ...o };
  return { caseName, engine, ...o };
}

if (only) configs.splice(0, configs.length, ...configs.filter((c) => only.includes(c[0])));
const runs = configs.map(() => []);
const t0 = Date.now();
for (let rep = 0; rep < reps; rep++) {
  configs.forEach((c, i) => {
    const r = runOnce(c);
    runs[i].push(r);
    console.error(`linalg bench: rep ${rep + 1} ${c[0]} ${c[1]}: ${r.error ?? `${r.seconds.toFixed(3)} s`}`);
  });
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const rows = configs.map((c, i) => {
  const ok = runs[i].filter((r) => !r.error);
  return { case: c[0], engine: c[1], median: median(ok.map((r) => r.seconds)), min: Math.min(...ok.map((r) => r.seconds)), max: Math.max(...ok.map((r) => r.seconds)), errors: runs[i].filter((r) => r.error).map((r) => r.error), blas: ok[0]?.blas };
});
const get = (c, e) => rows.find((r) => r.case === c && r.engine === e)?.median ?? NaN;
const flops = 2 * S.matmul[0] ** 3;
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a");
const lines = [
  `# tessera linear algebra bench: ${new Date().toISOString()}`,
  "",
  `- machine: ${os.cpus()[0]?.model}, ${os.cpus().length} cores, node ${process.version}; reps ${reps} (interleaved), ${((Date.now() - t0) / 1000).toFixed(0)} s in all`,
  `- sizes: matmul ${S.matmul[0]}² float64 chunks ${S.matmul[1]}; qr ${S.qr[0]}×${S.qr[2]} chunks ${S.qr[1]} rows; cumsum axis 0 ${S.cumsum0[0]}² chunks ${S.cumsum0[1]}` + " (histogram: the harness's histogram case)",
  `- numpy/dask BLAS: ${rows.find((r) => r.blas)?.blas ?? "?"}, OpenBLAS core ${core}`,
  "",
  "| case | engine | median s | min–max s | note |",
  "|---|---|---:|---:|---|",
  ...rows.map((r) => `| ${r.case} | ${r.engine} | ${r.median.toPrecision(3)} | ${r.min.toPrecision(3)}–${r.max.toPrecision(3)} | ${r.case === "matmul" && Number.isFinite(r.median) ? `${(flops / r.median / 1e9).toFixed(1)} GFLOP/s` : ""}${r.errors.length ? ` errors: ${r.errors.join("; ")}` : ""} |`),
  "",
  "## Ratios (same run)",
  "",
  `- matmul, 1 → 2 workers: ${ratio(get("matmul", "tessera 1 worker") / get("matmul", "tessera 2 workers"))} (target ≥ 1.8×)`,
  `- matmul, numpy ÷ tessera 2 workers (time): ${ratio(get("matmul", "numpy") / get("matmul", "tessera 2 workers"))} (issue 15 target ≥ 0.8×); dask ÷ tessera: ${ratio(get("matmul", "dask threads") / get("matmul", "tessera 2 workers"))}`,
  `- matmul, the canonical arithmetic: native ÷ wasm kernel (speed): ${ratio(get("matmul", "tessera 2 workers, plain wasm") / get("matmul", "tessera 2 workers, plain native"))}; numpy ÷ native canonical (time): ${ratio(get("matmul", "numpy") / get("matmul", "tessera 2 workers, plain native"))}`,
  `- qr, dask ÷ tessera: ${ratio(get("qr", "dask threads") / get("qr", "tessera 2 workers"))}`,
  `- cumsum axis 0, dask ÷ tessera: ${ratio(get("cumsum0", "dask threads") / get("cumsum0", "tessera 2 workers"))} (target ≥ 3×)`,
  "",
];
const dir = join(here, "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `${outName}.json`), JSON.stringify({ sizes: S, reps, rows, runs }, null, 1));
writeFileSync(join(dir, `${outName}.md`), lines.join("\n"));
console.log(lines.join("\n"));
