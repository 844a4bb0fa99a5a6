// Worlds connected on demand (more than TESSERA_MESH_MAX ranks, default 8), through run.js --np with one
// worker per rank: the same bits as the canonical combination order for every size, O(log P) peers per
// rank, and a killed rank noticed by every other rank.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { canonicalReduce } from "../../dist/comm/collectives.js";
import { launchLocal } from "../../dist/comm/launch.js";
import { digest, rankData } from "../comm/fixtures/data.mjs";
import { skew } from "./fixtures/scale.mjs";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const SCALE = fileURLToPath(new URL("./fixtures/scale.mjs", import.meta.url));

function run(np, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, "--np", String(np), "--workers", "1", SCALE], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      resolve({ code, stderr, lines });
    });
  });
}

/** The canonical order (collectives.ts) applied in plain JS to every rank's value: what every size must give. */
function expected(P) {
  const ranks = Array.from({ length: P }, (_, r) => r);
  return {
    small: digest(canonicalReduce(ranks.map((r) => rankData(r, 7)), "sum")),
    large: digest(canonicalReduce(ranks.map((r) => rankData(r, 20_000)), "sum")),
    custom: canonicalReduce(ranks.map((r) => Math.sin(r + 1) * 1000), skew),
    reduceCustom: canonicalReduce(ranks.map((r) => Math.cos(r) * 3), skew),
    order: canonicalReduce(ranks.map((r) => `r${r}`), (a, b) => `(${a}+${b})`),
  };
}

/** The peers the algorithms may use: ranks at distance 2^k, either way, mod P. */
function allowedPeers(r, P) {
  const s = new Set();
  for (let d = 1; d < P; d *= 2) s.add((r + d) % P).add((r - d + P) % P);
  s.delete(r);
  return s;
}

function check(P, out) {
  assert.is(out.code, 0, `P=${P}: ${out.stderr}`);
  const ranks = out.lines.filter((l) => "small" in l).sort((a, b) => a.rank - b.rank);
  assert.is(ranks.length, P, `P=${P}: ${out.stderr}`);
  const exp = expected(P);
  for (const o of ranks) {
    const r = o.rank;
    const at = `P=${P} rank ${r}`;
    assert.is(o.small, exp.small, `${at}: small allreduce bits`);
    assert.is(o.large, exp.large, `${at}: large allreduce bits`);
    assert.ok(Object.is(o.custom, exp.custom), `${at}: custom allreduce ${o.custom} != ${exp.custom}`);
    assert.is(o.order, exp.order, at);
    assert.is(o.reduce, r === P - 1 ? exp.small : null, at);
    assert.is(o.reduceLarge, r === P - 1 ? exp.large : null, at);
    assert.ok(Object.is(o.reduceCustom, r === 1 % P ? exp.reduceCustom : null), `${at}: custom reduce`);
    assert.equal(o.bcast, { from: P - 1 }, at);
    assert.equal(o.gather, r === 1 % P ? Array.from({ length: P }, (_, q) => q * 3) : null, at);
    assert.equal(o.allgather, Array.from({ length: P }, (_, q) => q), at);
    if (P > 1) assert.is(o.ring, (r - 1 + P) % P, at);
    // a fingerprint check (O(log P) peers above 8 ranks) says the same on every rank
    const fp = P === 1 ? null : P === 2
      ? "COLLECTIVE_MISMATCH: ranks 1 built a different graph than rank 0 (fingerprints g1 vs g2): every rank must build the same graph"
      : `COLLECTIVE_MISMATCH: ranks ${P - 2} built a different graph than rank 0 (fingerprints g2 vs g1): every rank must build the same graph`;
    assert.is(o.fingerprints, fp, at);
    if (P <= 8) continue; // small worlds' large reductions exchange directly with every rank (collectives.ts DIRECT_MAX)
    const allowed = allowedPeers(r, P);
    for (const q of o.peers) assert.ok(allowed.has(q), `${at} has a link to rank ${q}, not at a distance 2^k (links: ${o.peers})`);
  }
  return ranks;
}

test("P = 1..8 connected on demand (TESSERA_MESH_MAX=1): the canonical bits of every reduction", async () => {
  for (let P = 1; P <= 8; P++) check(P, await run(P, { TESSERA_MESH_MAX: "1" }));
});

test("P = 13, 16 and 33 (the default: on demand above 8): the canonical bits, links only at distances 2^k, O(log P) links and fds per rank", async () => {
  const fds = {};
  for (const P of [13, 16, 33]) {
    const ranks = check(P, await run(P));
    const most = Math.max(...ranks.map((o) => o.peers.length));
    assert.ok(most <= 2 * Math.ceil(Math.log2(P)), `P=${P}: a rank has ${most} links`);
    fds[P] = Math.max(...ranks.map((o) => o.fds));
  }
  // twice the ranks, a few more descriptors (not 17 more, as a full mesh would take)
  assert.ok(fds[33] - fds[16] <= 6, `fds per rank: ${JSON.stringify(fds)}`);
});

test("a rank killed (SIGKILL) in a 33-rank job: every other rank fails with RANK_LOST naming it within 10 s", async () => {
  const P = 33;
  const victim = 19;
  const ready = new Map(); // rank -> pid
  const stops = new Map(); // rank -> { code, message, t }: each rank's own last line, when it came
  const done = launchLocal(P, ["--workers", "1", SCALE, "hang"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { FIX_VICTIM: String(victim) },
    stopGraceMs: 20_000, // each rank must notice by itself, not be stopped by the launcher
    onSpawn: (child) => {
      const lines = (stream, each) => {
        let buf = "";
        stream.on("data", (d) => {
          buf += d;
          for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) each(buf.slice(0, i));
        });
      };
      lines(child.stdout, (l) => {
        if (!l.startsWith("{")) return;
        const o = JSON.parse(l);
        if (o.event === "ready") ready.set(o.rank, o.pid);
      });
      lines(child.stderr, (l) => {
        const m = /^run\.js: ([A-Z_]+): (.*); rank (\d+) stops$/.exec(l);
        if (m) stops.set(Number(m[3]), { code: m[1], message: m[2], t: Date.now() });
      });
    },
  });
  const t = Date.now();
  while (ready.size < P && Date.now() - t < 60_000) await new Promise((r) => setTimeout(r, 50));
  assert.is(ready.size, P, "every rank started");
  await new Promise((r) => setTimeout(r, 300)); // the others wait in the allreduce
  const t0 = Date.now();
  process.kill(ready.get(victim), "SIGKILL");
  const code = await done;
  assert.is.not(code, 0);
  assert.equal([...stops.keys()].sort((a, b) => a - b), Array.from({ length: P }, (_, r) => r).filter((r) => r !== victim), "every other rank said why it stops");
  for (const [r, x] of stops) {
    assert.is(x.code, "RANK_LOST", `rank ${r}: ${x.message}`);
    assert.match(x.message, `rank ${victim} was lost`);
    assert.ok(x.t - t0 < 10_000, `rank ${r} stopped after ${x.t - t0} ms`);
  }
});

test.run();
