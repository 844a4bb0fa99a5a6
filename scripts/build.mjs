#!/usr/bin/env node
// Builds everything into dist/: the AssemblyScript kernels (asc: the plain SIMD build and its relaxed-SIMD
// FMA twin, see src/kernels/wasm.ts) and the TypeScript sources (tsc).
// --if-stale skips the build when dist/ is newer than every source file (used by `npm test`).
// --wasm-only builds the kernels alone.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
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
if (!args.has("--wasm-only")) run(["typescript", "bin", "tsc"], ["-p", "tsconfig.json"]);
