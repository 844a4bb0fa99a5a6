// Layers import downward only (DESIGN.md): cli -> array -> graph -> scheduler -> plan -> worker -> kernels
// (graph builds plans and the scheduler runs them: both import plan, which is plain data; storage, the
// file formats, sits beside kernels: the array layer opens files, workers read and write regions), and
// comm -> transport -> protocol (transport/shm-addon.ts is the one loader of the C++ addon in native/, which
// imports nothing of src/). Root modules (errors, dtype, grid, index-map) are leaves every layer uses.
// cluster (scheduler process, workers, LocalCluster, Client and futures) sits on top of both stacks, below
// cli: it runs plans (scheduler, plan) over the transport (transport, protocol) and takes arrays and gives
// NDArrays as compute() does, so it may import array; array never imports it (the default client is an
// interface array defines, array/backend.ts, that the cluster registers with).
// dashboard (the live page and its endpoints) sits above cluster and below cli: it may import the
// scheduler, cluster and comm types it observes; nothing below imports it, only the small observer
// interface (scheduler/observe.ts) and the starter a cluster calls (cluster/dashboard-hook.ts), which
// the dashboard registers with.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const RANK = { cli: 9, dashboard: 8.5, cluster: 8, array: 7, graph: 6, scheduler: 5, plan: 4, worker: 3, kernels: 2, storage: 2, comm: 3, transport: 2, protocol: 1 };
const STACK = { cli: "top", dashboard: "top", cluster: "top", array: "engine", graph: "engine", scheduler: "engine", plan: "engine", worker: "engine", kernels: "engine", storage: "engine", comm: "ranks", transport: "ranks", protocol: "ranks" };

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

const layerOf = (file) => {
  const parts = relative(SRC, file).split("/");
  return parts.length > 1 ? parts[0] : null; // null: a root module
};

test("every folder of src/ is a known layer", () => {
  const dirs = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== "types").map((e) => e.name);
  assert.equal(dirs.filter((d) => !(d in RANK)), [], "a folder with no place in the layer order");
});

test("no module imports from a layer above its own", () => {
  const bad = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    if (!from || from === "types") continue;
    for (const m of readFileSync(f, "utf8").matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)) {
      const target = normalize(join(dirname(f), m[1]));
      const to = layerOf(target);
      if (!to || to === from) continue;
      const top = STACK[from] === "top";
      const sameStack = STACK[from] === STACK[to] || top;
      if (!sameStack && !top && !(from === "scheduler" && to === "comm")) bad.push(`${relative(SRC, f)} -> ${relative(SRC, target)} (other stack)`);
      else if (RANK[to] >= RANK[from]) bad.push(`${relative(SRC, f)} -> ${relative(SRC, target)}`);
    }
  }
  assert.equal(bad, [], `upward imports:\n${bad.join("\n")}`);
});

// One loader per addon, in the layer that uses it: the rest of that layer (and every layer above) goes
// through the loader, which says why an addon is missing and falls back.
const ADDON_LOADERS = ["native-addon.ts", "transport/shm-addon.ts", "kernels/native-gemm.ts", "kernels/native.ts", "storage/native-zstd.ts"];
test("only each native addon's loader touches it (native/ is below every layer)", () => {
  const bad = [];
  for (const f of files(SRC)) {
    if (/native\/build|\.node"/.test(readFileSync(f, "utf8")) && !ADDON_LOADERS.includes(relative(SRC, f))) bad.push(relative(SRC, f));
  }
  assert.equal(bad, [], `load an addon through its loader: ${ADDON_LOADERS.join(", ")}`);
});

test.run();
