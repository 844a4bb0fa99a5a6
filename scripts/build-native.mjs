#!/usr/bin/env node
// `npm install` step: builds the native addons (native/, node-addon-api: shared memory, GEMM, the tile
// interpreter) with node-gyp against the Node headers on this machine (nodedir from .npmrc / npm_config_nodedir, else /usr when
// /usr/include/node/node.h exists), never downloading headers. It never fails the install: without a
// compiler, on another OS, or with TESSERA_NO_NATIVE=1, it says so and ranks on one host use WebSockets
// (src/transport/shm-addon.ts returns null when native/build/Release/tessera_shm.node is absent).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const native = join(root, "native");
const say = (line) => process.stderr.write(`tessera: ${line}\n`);
const fallback = (why) => {
  say(`shared-memory addon not built (${why}): ranks on one host will talk over WebSockets`);
  process.exit(0);
};

if (process.env.TESSERA_NO_NATIVE === "1") fallback("TESSERA_NO_NATIVE=1");
if (process.platform !== "linux") fallback(`platform ${process.platform}: the addon uses Linux futexes`);

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(root, "package.json")).resolve("node-gyp/bin/node-gyp.js"));
  } catch {}
  // npm's own copy, beside the node binary (/usr/bin/node -> /usr/lib/node_modules/npm/...)
  candidates.push(join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((p) => p && existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) fallback("node-gyp not found");
let nodedir = process.env.npm_config_nodedir;
if (!nodedir && existsSync("/usr/include/node/node.h")) nodedir = "/usr";
if (!nodedir) fallback("no Node headers on this machine (set nodedir in .npmrc); node-gyp would download them");
const run = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${nodedir}`], { cwd: native, encoding: "utf8", env: { ...process.env, npm_config_nodedir: nodedir } });
if (run.status !== 0) {
  const tail = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n").slice(-6).join("\n  ");
  fallback(`node-gyp failed${run.error ? `: ${run.error.message}` : ""}\n  ${tail}`);
}
if (!existsSync(join(native, "build", "Release", "tessera_shm.node"))) fallback("node-gyp produced no tessera_shm.node");
say("shared-memory addon built (native/build/Release/tessera_shm.node)");
// the GEMM addon opens OpenBLAS at run time (kernels/native-gemm.ts): it needs no BLAS to build
if (existsSync(join(native, "build", "Release", "tessera_gemm.node"))) say("GEMM addon built (native/build/Release/tessera_gemm.node): matmul uses OpenBLAS where it is installed, else the native canonical kernel");
// the native tile interpreter (kernels/native.ts): TESSERA_KERNELS defaults to it where it is built
if (existsSync(join(native, "build", "Release", "tessera_kernels.node"))) say("native kernels built (native/build/Release/tessera_kernels.node): programs run natively (AVX-512 / AVX2 / SSE2), TESSERA_KERNELS=wasm for the wasm kernels");
else say("native kernels not built: programs run on the wasm kernels");
