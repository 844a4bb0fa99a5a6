// Layers import downward only (DESIGN.md): cli -> array -> graph -> scheduler -> worker -> kernels,
// and comm -> transport -> protocol. Root modules (errors, dtype, types) are leaves every layer uses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const RANK = { cli: 7, array: 6, graph: 5, scheduler: 4, worker: 3, kernels: 2, comm: 3, transport: 2, protocol: 1 };
const STACK = { cli: "top", array: "engine", graph: "engine", scheduler: "engine", worker: "engine", kernels: "engine", comm: "ranks", transport: "ranks", protocol: "ranks" };

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

test("no module imports from a layer above its own", () => {
  const bad = [];
  for (const f of files(SRC)) {
    const from = layerOf(f);
    if (!from || from === "types") continue;
    for (const m of readFileSync(f, "utf8").matchAll(/^(?:import|export)[^;]*?from\s+"(\.[^"]+)"/gms)) {
      const target = normalize(join(dirname(f), m[1]));
      const to = layerOf(target);
      if (!to || to === from) continue;
      const sameStack = STACK[from] === STACK[to] || from === "cli";
      if (!sameStack && from !== "cli" && !(from === "scheduler" && to === "comm")) bad.push(`${relative(SRC, f)} -> ${relative(SRC, target)} (other stack)`);
      else if (RANK[to] >= RANK[from]) bad.push(`${relative(SRC, f)} -> ${relative(SRC, target)}`);
    }
  }
  assert.equal(bad, [], `upward imports:\n${bad.join("\n")}`);
});

test.run();
