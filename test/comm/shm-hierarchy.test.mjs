// Collectives of several hosts node-locally first (topology.ts, hierarchical.ts): where every host's ranks
// are contiguous, the leaders combine the canonical tree's nodes in its own order (checked for every
// contiguous split of 2..9 ranks with an op that writes the order out, in one process); real ranks on fake
// hosts (TESSERA_SHM_HOST) give the ws path's bits and report the path taken; a rank killed mid-collective.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADDON_PATH } from "../../dist/transport/shm-addon.js";
import { canonicalPieces, hostTopology } from "../../dist/comm/topology.js";
import { hierAllgather, hierAllreduce, hierBarrier, hierBcast, hierGather, hierReduce } from "../../dist/comm/hierarchical.js";
import { canonicalReduce } from "../../dist/comm/collectives.js";
import { startWorld } from "./harness.mjs";

const HIER = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "hier.mjs");
const SHM = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "shm.mjs");
const built = existsSync(ADDON_PATH);
const order = (a, b) => `(${a}+${b})`;

test("canonicalPieces: the maximal canonical tree nodes of a range", () => {
  assert.equal(canonicalPieces(0, 2, 4), [[0, 2]]);
  assert.equal(canonicalPieces(0, 3, 4), [[0, 2], [2, 3]]);
  assert.equal(canonicalPieces(1, 4, 4), [[1, 2], [2, 4]]);
  assert.equal(canonicalPieces(2, 3, 3), [[2, 3]]);
  assert.equal(canonicalPieces(0, 3, 3), [[0, 3]]); // P = 3: (0 op 1) op 2 is the root
  assert.equal(canonicalPieces(3, 9, 9), [[3, 4], [4, 8], [8, 9]]);
  assert.equal(canonicalPieces(4, 7, 7), [[4, 7]]);
});

test("hostTopology: reductions only for contiguous hosts; broadcasts wherever a host has several ranks", () => {
  const t = hostTopology([[0, 1], [2, 3]], 4);
  assert.equal([t.reductions, t.grouped, t.hosts, t.hostOf], [true, true, [[0, 1], [2, 3]], [0, 0, 1, 1]]);
  assert.equal(t.pieces, [[[0, 2]], [[2, 4]]]);
  const i = hostTopology([[0, 2], [1, 3]], 4);
  assert.equal([i.reductions, i.grouped, i.why], [false, true, "the ranks of a host are not a contiguous range"]);
  assert.equal(hostTopology([[1, 2, 3]], 4).pieces, [[[0, 1]], [[1, 2], [2, 4]]]); // rank 0 a host of its own
  assert.equal([hostTopology([], 3).grouped, hostTopology([[0, 1, 2]], 3).grouped], [false, false]);
});

/** P ranks in one process: post/take through a map of promises (every message once, keyed by step, source and destination). */
function fakeWorld(P) {
  const slots = new Map();
  const slot = (k) => {
    if (!slots.has(k)) {
      let resolve;
      const p = new Promise((r) => (resolve = r));
      slots.set(k, { p, resolve, posted: false });
    }
    return slots.get(k);
  };
  const comm = (rank) => ({
    rank,
    size: P,
    async post(dests, h, p) {
      for (const d of dests) {
        const s = slot(`${h.seq}:${h.step}:${rank}>${d}`);
        assert.not.ok(s.posted, `a second message ${h.step} from ${rank} to ${d}`);
        s.posted = true;
        s.resolve(p);
      }
    },
    take: (src, call, step) => slot(`${call.seq}:${step}:${src}>${rank}`).p,
  });
  return { comms: Array.from({ length: P }, (_, r) => comm(r)) };
}

/** A barrier in which the last rank arrives late (after every pending message was delivered): no rank may leave before. */
async function barrierHolds(comms, t, call) {
  let arrived = false;
  const last = comms.length - 1;
  await Promise.all(comms.map((c) => c.rank === last
    ? new Promise((r) => setImmediate(r)).then(() => { arrived = true; return hierBarrier(c, t, call); })
    : hierBarrier(c, t, call).then(() => assert.ok(arrived, `rank ${c.rank} left the barrier before rank ${last} came`))));
}

/** Every split of 0..P-1 into contiguous hosts (compositions of P). */
function* splits(P, from = 0) {
  if (from === P) return yield [];
  for (let e = from + 1; e <= P; e++) for (const rest of splits(P, e)) yield [Array.from({ length: e - from }, (_, k) => from + k), ...rest];
}

test("every contiguous split of 2..9 ranks: allreduce and reduce combine in exactly the canonical order; bcast, barrier, gather and allgather reach every rank", async () => {
  let n = 0;
  for (let P = 2; P <= 9; P++) {
    for (const hosts of splits(P)) {
      const t = hostTopology(hosts, P);
      if (!t.reductions) continue;
      const want = canonicalReduce(Array.from({ length: P }, (_, r) => `r${r}`), order);
      const { comms } = fakeWorld(P);
      const call = (seq, root = 0) => ({ op: 0, seq, root, reduce: 0, tag: 0 });
      const got = await Promise.all(comms.map((c) => hierAllreduce(c, t, `r${c.rank}`, order, call(1))));
      assert.equal(got, new Array(P).fill(want), JSON.stringify(hosts));
      const root = P % 2 ? P - 1 : 1;
      const red = await Promise.all(comms.map((c) => hierReduce(c, t, `r${c.rank}`, order, root, call(2, root))));
      assert.equal(red, Array.from({ length: P }, (_, r) => (r === root ? want : undefined)), JSON.stringify(hosts));
      for (let b = 0; b < P; b++) {
        const bc = await Promise.all(comms.map((c) => hierBcast(c, t, c.rank === b ? `v${b}` : null, b, call(3 + b, b))));
        assert.equal(bc, new Array(P).fill(`v${b}`));
      }
      await barrierHolds(comms, t, call(100));
      const pay = (q) => ({ dtype: 4, shape: [], bytes: Uint8Array.of(q, 7) }); // DType.Uint8
      const ag = await Promise.all(comms.map((c) => hierAllgather(c, t, pay(c.rank), call(101))));
      for (const blocks of ag) assert.equal(blocks.map((b) => [...b.bytes]), Array.from({ length: P }, (_, q) => [q, 7]));
      const g = await Promise.all(comms.map((c) => hierGather(c, t, `g${c.rank}`, root, call(102, root))));
      assert.equal(g, Array.from({ length: P }, (_, r) => (r === root ? Array.from({ length: P }, (_, q) => `g${q}`) : undefined)));
      n++;
    }
  }
  assert.is(n, 494); // 2^(P-1) splits of P ranks, less the one host of all and the P hosts of one rank, P = 2..9
});

test("hosts that are not contiguous (interleaved, uneven): bcast, barrier, gather and allgather through the leaders reach every rank", async () => {
  for (const [P, hostOf] of [[4, (r) => r % 2], [5, (r) => r % 2], [6, (r) => r % 3], [7, (r) => (r * 5) % 3], [5, (r) => (r === 2 ? 1 : 0)]]) {
    const groups = [];
    for (let r = 0; r < P; r++) (groups[hostOf(r)] ??= []).push(r);
    const t = hostTopology(groups, P);
    assert.is(t.reductions, false);
    assert.is(t.grouped, true);
    const { comms } = fakeWorld(P);
    const call = (seq, root = 0) => ({ op: 0, seq, root, reduce: 0, tag: 0 });
    for (let b = 0; b < P; b++) {
      const bc = await Promise.all(comms.map((c) => hierBcast(c, t, c.rank === b ? `v${b}` : null, b, call(1 + b, b))));
      assert.equal(bc, new Array(P).fill(`v${b}`));
      const g = await Promise.all(comms.map((c) => hierGather(c, t, `g${c.rank}`, b, call(100 + b, b))));
      assert.equal(g, Array.from({ length: P }, (_, r) => (r === b ? Array.from({ length: P }, (_, q) => `g${q}`) : undefined)));
    }
    const ag = await Promise.all(comms.map((c) => hierAllgather(c, t, { dtype: 4, shape: [], bytes: Uint8Array.of(c.rank) }, call(200))));
    for (const blocks of ag) assert.equal(blocks.map((x) => [...x.bytes]), Array.from({ length: P }, (_, q) => [q]));
    await barrierHolds(comms, t, call(201));
  }
});

async function world(np, scenario, hostOf, env = {}, fixture = HIER) {
  const w = await startWorld(np, scenario, { env, envFor: (r) => (hostOf ? { TESSERA_SHM_HOST: hostOf(r) } : {}), fixture });
  const exits = await w.done(90000);
  return w.ranks.map((x, i) => {
    assert.equal(exits[i], { code: 0, signal: null }, `rank ${i} exit; stderr: ${x.stderr}`);
    const res = x.lines.find((l) => l.rank === i);
    assert.ok(res, `rank ${i} printed no result: ${JSON.stringify(x.lines)} ${x.stderr}`);
    return res;
  });
}

const TOPOLOGIES = [
  { name: "2 hosts x 2 ranks", host: (r) => (r < 2 ? "a" : "b"), local: [[0, 1], [0, 1], [2, 3], [2, 3]], reductions: true },
  { name: "3 + 1", host: (r) => (r < 3 ? "a" : "b"), local: [[0, 1, 2], [0, 1, 2], [0, 1, 2], [3]], reductions: true },
  { name: "1 + 3", host: (r) => (r < 1 ? "a" : "b"), local: [[0], [1, 2, 3], [1, 2, 3], [1, 2, 3]], reductions: true },
  { name: "interleaved 0,2 | 1,3", host: (r) => (r % 2 ? "b" : "a"), local: [[0, 2], [1, 3], [0, 2], [1, 3]], reductions: false },
];

test("4 real ranks on fake hosts: every result equals TESSERA_TRANSPORT=ws bit for bit; the hierarchical path is taken where hosts are contiguous", async () => {
  const ws = await world(4, "equal", null, { TESSERA_TRANSPORT: "ws" });
  for (const x of ws) assert.is(x.hierarchy, null);
  assert.is(ws[0].res.order, "((r0+r1)+(r2+r3))");
  for (const topo of TOPOLOGIES) {
    const got = await world(4, "equal", topo.host);
    for (let r = 0; r < 4; r++) {
      const x = got[r];
      assert.equal(x.res, ws[r].res, `${topo.name}, rank ${r}: results differ from ws`);
      if (!built) continue;
      assert.is(x.transport, topo.local[r].length > 1 ? "shm+ws" : "ws", `${topo.name} rank ${r}`);
      assert.equal(x.localRanks, topo.local[r]);
      const h = x.hierarchy;
      assert.ok(h, `${topo.name}: no hierarchy reported`);
      assert.is(h.reductions, topo.reductions, topo.name);
      assert.is(h.grouped, true);
      // 6 allreduce + 6 reduce of arrays below the large-message size (the 1 MiB ones keep the flat
      // reduce-scatter), 1 + 1 + 2 of numbers and strings; 4 x 4 + 1 bcasts; 3 barriers; 8 + 1 gathers;
      // 4 allgathers + 1 of bytes
      const flat = { bcast: 17, barrier: 3, gather: 9, allgather: 5 };
      assert.equal(h.taken, topo.reductions ? { allreduce: 8, reduce: 7, ...flat } : { allreduce: 0, reduce: 0, ...flat }, topo.name);
    }
  }
});

test("TESSERA_SHM_HIERARCHY=off on one rank keeps the flat algorithms on all (same bits)", async () => {
  const got = await world(4, "equal", TOPOLOGIES[0].host, {}, HIER);
  const off = await startWorld(4, "equal", { envFor: (r) => ({ TESSERA_SHM_HOST: r < 2 ? "a" : "b", ...(r === 3 ? { TESSERA_SHM_HIERARCHY: "off" } : {}) }), fixture: HIER });
  const exits = await off.done(90000);
  for (let r = 0; r < 4; r++) {
    assert.equal(exits[r], { code: 0, signal: null }, off.ranks[r].stderr);
    const x = off.ranks[r].lines.find((l) => l.rank === r);
    assert.is(x.hierarchy, null);
    assert.equal(x.res, got[r].res);
  }
});

test("an allreduce of other lengths on each rank, 2 + 2 and 3 + 1, small (node-locally first) and large: every rank fails with COLLECTIVE_MISMATCH", async () => {
  for (const topo of TOPOLOGIES.slice(0, 2)) {
    for (const fixture of [HIER, SHM]) {
      const got = await world(4, "mismatch", topo.host, {}, fixture);
      for (const x of got) assert.is(x.code, "COLLECTIVE_MISMATCH", `${topo.name}: ${JSON.stringify(x)}`);
    }
  }
});

for (const victim of [1, 2]) {
  test(`2 hosts x 2 ranks, rank ${victim} (${victim === 2 ? "a host's leader" : "not a leader"}) SIGKILLed in the middle of hierarchical allreduces: the others fail with RANK_LOST within 10 s`, async () => {
    const w = await startWorld(4, "killmid", { env: { FIX_VICTIM: String(victim), FIX_KILL_MS: "400" }, envFor: (r) => ({ TESSERA_SHM_HOST: r < 2 ? "a" : "b" }), fixture: HIER });
    try {
      const ready = await Promise.all([0, 1, 2, 3].map((r) => w.waitFor(r, (l) => l.event === "ready")));
      if (built) assert.ok(ready.every((l) => l.transport === "shm+ws" && l.hierarchy.reductions));
      const killed = await w.ranks[victim].exit;
      const t0 = Date.now();
      assert.is(killed.signal, "SIGKILL");
      for (const r of [0, 1, 2, 3].filter((q) => q !== victim)) {
        const l = await w.waitFor(r, (x) => x.event === "rejected", 10000);
        assert.is(l.code, "RANK_LOST", JSON.stringify(l));
        assert.ok(l.n > 0, "it was killed in the middle of the allreduces, not before");
        if (built) assert.ok(l.taken.allreduce >= l.n && l.taken.barrier > 0, JSON.stringify(l.taken));
      }
      const exits = await Promise.all([0, 1, 2, 3].filter((q) => q !== victim).map((r) => w.ranks[r].exit));
      for (const e of exits) assert.is(e.code, 1);
      assert.ok(Date.now() - t0 < 10000, `${Date.now() - t0} ms`);
    } finally {
      w.kill("SIGKILL");
      await w.done(5000);
    }
  });
}

test.run();
