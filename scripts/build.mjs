#!/usr/bin/env node
// Builds everything into dist/: the AssemblyScript kernels (asc: the plain SIMD build and its relaxed-SIMD
// FMA twin, see src/kernels/wasm.ts), the TypeScript sources (tsc) and the dashboard's page with its chart
// library (copied into dist/dashboard/page: served from there, never from a CDN).
// --if-stale skips the build when dist/ is newer than every source file (used by `npm test`).
// --wasm-only builds the kernels alone.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function run(cmd, argv) {
  const r = spawnSync(process.execPath, [join(root, "node_modules", ...cmd), ...argv], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`build failed: ${cmd.at(-1)} ${argv.join(" ")} (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const stamp = join(root, "dist", "run.js");
if (args.has("--if-stale") && existsSync(stamp)) {
  const built = statSync(stamp).mtimeMs;
  const src = Math.max(newest(join(root, "src")), newest(join(root, "assembly")), statSync(join(root, "asconfig.json")).mtimeMs);
  if (src <= built) process.exit(0);
}

run(["assemblyscript", "bin", "asc.js"], ["--config", "asconfig.json", "--target", "release"]);
// the same sources with relaxed SIMD: the GEMM microkernel's FMA variant, loaded only under TESSERA_GEMM=fma
run(["assemblyscript", "bin", "asc.js"], ["--config", "asconfig.json", "--target", "fma"]);
if (!args.has("--wasm-only")) {
  run(["typescript", "bin", "tsc"], ["-p", "tsconfig.json"]);
  copyDashboardPage();
}

/** The page's own files and uPlot's build (an npm dependency), side by side under dist/dashboard/page. */
function copyDashboardPage() {
  const out = join(root, "dist", "dashboard", "page");
  mkdirSync(out, { recursive: true });
  const page = join(root, "src", "dashboard", "page");
  for (const f of readdirSync(page)) copyFileSync(join(page, f), join(out, f));
  const uplot = join(root, "node_modules", "uplot", "dist");
  for (const f of ["uPlot.iife.min.js", "uPlot.min.css"]) {
    if (!existsSync(join(uplot, f))) {
      console.error(`build failed: ${join(uplot, f)} is missing (npm ci installs uplot, the dashboard's chart library)`);
      process.exit(1);
    }
    copyFileSync(join(uplot, f), join(out, f));
  }
}
