#!/usr/bin/env node
// Runs the uvu suite (test/**/*.test.mjs) and ends with the plain "N passed, N failed" line CI reads.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const uvu = join(root, "node_modules", "uvu", "bin.js");
// The suite checks matmul against the canonical bits of abi.ts (the JS twin's), so it runs with the canonical
// GEMM unless told otherwise; the default GEMM where a BLAS loads (kernels/native-gemm.ts) is tested explicitly by
// test/kernels/native-gemm.test.mjs and, with TESSERA_GEMM unset, by test/array/matmul-blas.test.mjs's child process.
const env = { ...process.env, TESSERA_GEMM: process.env.TESSERA_GEMM ?? "plain" };
const child = spawn(process.execPath, [uvu, "test", "\\.test\\.mjs$", ...process.argv.slice(2)], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
let out = "";
child.stdout.on("data", (d) => {
  out += d;
  process.stdout.write(d);
});
child.on("close", (code, signal) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  if (Number.isFinite(total) && Number.isFinite(passed)) {
    console.log(`\n${passed} passed, ${total - passed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  } else console.log(`\nthe test run ended without a summary (exit ${code ?? signal})`);
  process.exitCode = code ?? 1;
});
