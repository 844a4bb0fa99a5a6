// Worlds connected on demand, in one process: the start-up tree is the only set of links a world starts
// with, other links come when a send first needs them (one per pair, also when both ends dial at once),
// the rendezvous directory holds private entries without the token and goes when the world closes, and
// in file mode rank 0's token file goes once the tree is complete.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { establish } from "../../dist/comm/mesh.js";
import { binomialPlace, tasksPerNode, treePlace } from "../../dist/comm/overlay.js";
import { connectPeer } from "../../dist/transport/client.js";
import { defaultLimits } from "../../dist/transport/limits.js";
import { newToken } from "../../dist/transport/auth.js";
import { freePort } from "./harness.mjs";
import { canonicalReduce } from "../../dist/comm/collectives.js";
import { digest, rankData } from "./fixtures/data.mjs";

const quiet = () => {};

test("the start-up tree: binomial (parent = r minus its lowest bit), or node-local subtrees under one leader per node", () => {
  assert.equal(binomialPlace(0, 10), { parent: -1, children: [1, 2, 4, 8] });
  assert.equal(binomialPlace(6, 10), { parent: 4, children: [7] });
  assert.equal(binomialPlace(8, 10), { parent: 0, children: [9] });
  // every rank but 0 has one parent, and is its parent's child, for any size and layout
  for (const [size, per] of [[33], [10, [4, 4, 2]], [9, [3, 3, 3]], [7, [1, 1, 5]]]) {
    const seen = new Set();
    for (let r = 0; r < size; r++) {
      const p = treePlace(r, size, per);
      if (r === 0) assert.is(p.parent, -1);
      else assert.ok(treePlace(p.parent, size, per).children.includes(r), `${size} ${per}: rank ${r}`);
      for (const c of p.children) seen.add(c);
    }
    assert.is(seen.size, size - 1);
  }
  // ranks 4..7 of the second node hang off rank 4, which hangs off rank 0; node 3's leader (8) off rank 0 too
  assert.equal(treePlace(5, 10, [4, 4, 2]), { parent: 4, children: [] });
  assert.equal(treePlace(4, 10, [4, 4, 2]), { parent: 0, children: [5, 6] });
  assert.equal(treePlace(0, 10, [4, 4, 2]), { parent: -1, children: [1, 2, 4, 8] });
  assert.equal(tasksPerNode({ SLURM_STEP_TASKS_PER_NODE: "4(x2),2" }), [4, 4, 2]);
  assert.is(tasksPerNode({ SLURM_STEP_TASKS_PER_NODE: "4(x2),2", SLURM_DISTRIBUTION: "cyclic" }), undefined);
  assert.is(tasksPerNode({ SLURM_STEP_TASKS_PER_NODE: "four" }), undefined);
});

const info = (rank, size, extra) => ({ rank, size, localRank: rank, nodes: [], allLocal: true, jobId: "od", stepId: "0", source: "tessera", ...extra });

test("10 ranks with a coordinator and a rendezvous directory: tree links only, more on demand, one link per pair", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-od-"));
  const rdv = join(dir, "ranks");
  const port = await freePort();
  const token = newToken();
  const P = 10;
  const worlds = await Promise.all(Array.from({ length: P }, (_, r) =>
    establish(info(r, P, { coordinator: { host: "127.0.0.1", port }, token, rendezvousDir: rdv }), { timeoutMs: 20_000, log: quiet })));
  try {
    for (const w of worlds) {
      const { parent, children } = binomialPlace(w.rank, P);
      assert.equal(w.connectedRanks, [...children, ...(parent >= 0 ? [parent] : [])].sort((a, b) => a - b), `rank ${w.rank} starts with its tree links`);
    }
    // entries: private, one per rank, no token
    const names = readdirSync(rdv).sort();
    assert.equal(names, Array.from({ length: P }, (_, r) => `rank-${r}.json`).sort());
    for (const n of names) {
      assert.is(statSync(join(rdv, n)).mode & 0o777, 0o600, n);
      assert.not.match(readFileSync(join(rdv, n), "utf8"), token);
    }
    // every rank sends to every other at once: crossing dials settle on one link per pair
    await Promise.all(worlds.flatMap((w) => [
      ...worlds.filter((v) => v !== w).map((v) => w.send({ from: w.rank }, v.rank, 4)),
      ...worlds.filter((v) => v !== w).map(async (v) => assert.equal(await w.recv(v.rank, 4), { from: v.rank })),
    ]));
    for (const w of worlds) assert.equal(w.connectedRanks, worlds.map((v) => v.rank).filter((q) => q !== w.rank), `rank ${w.rank}`);
    // the servers keep listening for later peers, but only for those that prove the token
    const limits = defaultLimits(P);
    const wrong = await connectPeer("127.0.0.1", port, { token: newToken(), rank: 3, size: P, job: "od.0", host: "", port: 0, expect: 0 }, limits, 5000).then(() => null, (e) => e);
    assert.ok(wrong && /closed the connection \(code 1008/.test(wrong.message), String(wrong?.message));
    assert.equal(await Promise.all(worlds.map((w) => w.allreduce(w.rank))), Array(P).fill(45));
  } finally {
    await Promise.all(worlds.map((w) => w.close()));
  }
  assert.not.ok(existsSync(rdv), "the last rank to leave removed the directory");
  rmSync(dir, { recursive: true, force: true });
});

test("file mode (no coordinator): rank 0's token file goes once the start-up tree is complete, the directory when the world closes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-od-"));
  const file = join(dir, "rdv.json");
  const P = 9;
  const worlds = await Promise.all(Array.from({ length: P }, (_, r) => establish(info(r, P, { rendezvousFile: file }), { timeoutMs: 20_000, log: quiet })));
  try {
    assert.not.ok(existsSync(file), "the token file is gone once every rank has connected");
    const [d] = readdirSync(dir);
    assert.match(d, /^rdv\.[0-9a-f]+\.d$/);
    assert.is(statSync(join(dir, d)).mode & 0o777, 0o700);
    assert.equal(await Promise.all(worlds.map((w) => w.allgather(w.rank * 2))), Array(P).fill(Array.from({ length: P }, (_, q) => q * 2)));
  } finally {
    await Promise.all(worlds.map((w) => w.close()));
  }
  assert.equal(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});

test("large reductions above 8 ranks (Rabenseifner, non-power-of-two remainders folded in on the right) give the canonical bits", async () => {
  for (const P of [12, 16, 19]) {
    const dir = mkdtempSync(join(tmpdir(), "tessera-od-"));
    const port = await freePort();
    const token = newToken();
    const worlds = await Promise.all(Array.from({ length: P }, (_, r) =>
      establish(info(r, P, { coordinator: { host: "127.0.0.1", port }, token, rendezvousDir: join(dir, "r") }), { timeoutMs: 20_000, log: quiet })));
    try {
      const n = 9_001; // 72 KB: over the large-message threshold, not a multiple of P
      const want = digest(canonicalReduce(worlds.map((w) => rankData(w.rank, n)), "sum"));
      const naive = digest(worlds.map((w) => rankData(w.rank, n)).reduce((a, b) => a.map((x, i) => x + b[i])));
      assert.is.not(naive, want, "the data is order-sensitive");
      const inputs = worlds.map((w) => rankData(w.rank, n));
      const got = await Promise.all(worlds.map((w, r) => w.allreduce(inputs[r])));
      for (const [r, g] of got.entries()) assert.is(digest(g), want, `P=${P} rank ${r}`);
      for (const [r, a] of inputs.entries()) assert.is(digest(a), digest(rankData(r, n)), "inputs intact");
      const maxed = await Promise.all(worlds.map((w) => w.allreduce(new Int32Array(20_000).fill(w.rank), "max")));
      assert.ok(maxed.every((m) => m.length === 20_000 && m.every((x) => x === P - 1)));
    } finally {
      await Promise.all(worlds.map((w) => w.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test.run();
