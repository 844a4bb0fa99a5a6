// The shared-memory transport (ranks of one host): results bit-equal to the WebSocket path, small rings
// wrapping around, concurrent collectives, a rank killed mid-transfer, no busy idle waits, the fallback,
// and (when the addon is built, or TESSERA_EXPECT_SHM=1 as in CI) that shared memory is what ran.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ADDON_PATH } from "../../dist/transport/shm-addon.js";
import { createHash } from "node:crypto";
import { rankData } from "./fixtures/data.mjs";
import { startWorld } from "./harness.mjs";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "shm.mjs");
const built = existsSync(ADDON_PATH);
const digest = (t) => createHash("sha256").update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)).digest("hex");
const ours = () => readdirSync("/dev/shm").filter((f) => f.startsWith("tessera-"));
/** Segments created by one of these processes (a segment's name carries its creator's pid: shm-setup.ts), not by another test run on the machine. */
const createdBy = (pids) => ours().filter((f) => pids.some((pid) => f.includes(`-${pid}-`)));

/** Every rank's result line; the world left no segment of its own in /dev/shm. */
async function run(np, scenario, env, ms = 60000) {
  const w = await startWorld(np, scenario, { env, fixture: FIXTURE });
  const exits = await w.done(ms);
  assert.equal(createdBy(w.ranks.map((x) => x.child.pid)), [], "a segment was left in /dev/shm");
  return w.ranks.map((x, i) => {
    assert.equal(exits[i], { code: 0, signal: null }, `rank ${i} (${JSON.stringify(env)}) exit; stderr: ${x.stderr}`);
    const res = x.lines.find((l) => l.rank === i);
    assert.ok(res, `rank ${i} printed no result: ${JSON.stringify(x.lines)} ${x.stderr}`);
    return res;
  });
}

test("the addon is built where CI expects it (TESSERA_EXPECT_SHM=1)", () => {
  if (process.env.TESSERA_EXPECT_SHM === "1") assert.ok(built, `${ADDON_PATH} is missing: npm install did not build the addon`);
});

for (const np of [1, 2, 3, 4]) {
  test(`${np} rank(s): every collective over shared memory equals the WebSocket path bit for bit (sizes 0, 1, 1001, 100003${np % 2 === 0 ? ", 64 MiB" : ""})`, async () => {
    const big = np % 2 === 0 ? { FIX_BIG_MB: "64" } : {};
    const ws = await run(np, "equal", { TESSERA_TRANSPORT: "ws", ...big });
    const shm = await run(np, "equal", { TESSERA_TRANSPORT: "auto", ...big });
    for (let r = 0; r < np; r++) {
      assert.is(ws[r].transport, np === 1 ? "none" : "ws");
      if (built) assert.is(shm[r].transport, np === 1 ? "none" : "shm", `rank ${r} used ${shm[r].transport}`);
      if (built && np > 1) assert.equal(shm[r].localRanks, Array.from({ length: np }, (_, q) => q));
      assert.equal(shm[r].res, ws[r].res, `rank ${r}: shm and ws results differ`);
      for (const n of [0, 1, 1001, 100_003]) {
        // allreduce/reduce with { out }: the very array passed, holding the same bits as without it
        assert.is(shm[r].res[`allreduce.out.${n}`], shm[r].res[`allreduce.${n}`], `rank ${r}: allreduce into out, n ${n}`);
        assert.is(shm[r].res[`allreduce.out.same.${n}`], true);
        assert.is(shm[r].res[`reduce.out.${n}`], shm[r].res[`reduce.${n}`], `rank ${r}: reduce into out, n ${n}`);
        assert.is(shm[r].res[`reduce.out.same.${n}`], true);
        // bcast/gather with { out }: the root's value / every rank's, in the array passed
        assert.is(shm[r].res[`bcast.out.${n}`], shm[r].res[`bcast.${n}`], `rank ${r}: bcast into out, n ${n}`);
        assert.is(shm[r].res[`bcast.out.same.${n}`], true);
        assert.equal(shm[r].res[`gather.out.${n}`], shm[r].res[`gather.${n}`], `rank ${r}: gather into out, n ${n}`);
        assert.is(shm[r].res[`gather.out.same.${n}`], true);
        assert.equal(shm[r].res[`gather.inplace.${n}`], shm[r].res[`gather.inplace.ref.${n}`], `rank ${r}: gather in place, n ${n}`);
        assert.equal(shm[r].res[`allgather.out.${n}`], shm[r].res[`allgather.${n}`], `rank ${r}: allgather into out, n ${n}`);
        assert.is(shm[r].res[`allgather.out.same.${n}`], true);
        assert.equal(shm[r].res[`allgather.inplace.${n}`], shm[r].res[`allgather.${n}`], `rank ${r}: allgather in place, n ${n}`);
      }
      for (const n of [1 << 20, (1 << 20) + 3, 5 << 20]) {
        assert.is(shm[r].res[`bcast.u8.out.${n}`], shm[r].res[`bcast.u8.${n}`], `rank ${r}: bcast of bytes into out, n ${n}`);
        assert.equal(shm[r].res[`gather.u8.out.${n}`], r === np - 1 ? shm[r].res[`gather.u8.sub.${n}`] : null, `rank ${r}: gather of bytes into out, n ${n}`);
      }
      if (big.FIX_BIG_MB) assert.is(shm[r].res["allreduce.out.64MiB"], shm[r].res["allreduce.64MiB"]);
    }
    if (np === 2) {
      // and both are the canonical combination
      const canon = rankData(0, 1001).map((x, i) => x + rankData(1, 1001)[i]);
      assert.is(shm[0].res["allreduce.1001"], digest(canon));
    }
  });
}

test("two hosts of two ranks (TESSERA_SHM_HOST): shared memory within each, ws between, same bits as ws alone", async () => {
  const env = { TESSERA_TRANSPORT: "auto" };
  const w = await startWorld(4, "equal", { env, envFor: (r) => ({ TESSERA_SHM_HOST: r < 2 ? "a" : "b" }), fixture: FIXTURE });
  const exits = await w.done(60000);
  const mixed = w.ranks.map((x, i) => {
    assert.equal(exits[i], { code: 0, signal: null }, x.stderr);
    return x.lines.find((l) => l.rank === i);
  });
  const ws = await run(4, "equal", { TESSERA_TRANSPORT: "ws" });
  for (let r = 0; r < 4; r++) {
    if (built) {
      assert.is(mixed[r].transport, "shm+ws");
      assert.equal(mixed[r].localRanks, r < 2 ? [0, 1] : [2, 3]);
    }
    assert.equal(mixed[r].res, ws[r].res);
  }
});

test("rings of 4 KiB: uneven messages wrap around many times; large and concurrent collectives stream through", async () => {
  const np = 3;
  const outs = await run(np, "wrap", { TESSERA_SHM_RING_BYTES: "4096" });
  const ws = await run(np, "wrap", { TESSERA_TRANSPORT: "ws" });
  for (let r = 0; r < np; r++) {
    if (built) assert.is(outs[r].transport, "shm");
    assert.is(outs[r].ok, 400);
    assert.is(outs[r].big, ws[r].big);
    assert.equal(outs[r].conc, ws[r].conc);
  }
});

test("broadcasts through the senders' areas, back to back from rotating roots, areas busy and free: the same bits as ws", async () => {
  for (const np of [3, 4]) {
    const ws = await run(np, "areas", { TESSERA_TRANSPORT: "ws" });
    for (const env of [{ TESSERA_SHM_AREA_BYTES: "262144" }, { TESSERA_SHM_AREA_BYTES: "0" }, { TESSERA_SHM_RING_BYTES: "65536", TESSERA_SHM_AREA_BYTES: "131072" }]) {
      const shm = await run(np, "areas", env);
      for (let r = 0; r < np; r++) {
        if (built) assert.is(shm[r].transport, "shm");
        assert.equal(shm[r].res, ws[r].res, `rank ${r} of ${np} (${JSON.stringify(env)})`);
      }
    }
  }
});

test("allreduce of numbers through the slots: the same bits as ws for 2-5 and 8 ranks, awaited, unawaited among arrays and function ops, with a late rank, after a failed call", async () => {
  for (const np of [2, 3, 4, 5, 8]) {
    const ws = await run(np, "numbers", { TESSERA_TRANSPORT: "ws" });
    const shm = await run(np, "numbers", { TESSERA_TRANSPORT: "auto" });
    for (let r = 0; r < np; r++) {
      if (built) assert.is(shm[r].transport, "shm");
      assert.equal(shm[r].res, ws[r].res, `${np} ranks, rank ${r}: shm and ws results differ`);
      assert.equal(shm[r].res.late, [0, 1, 2, 3, 4].map((i) => (np - 1) * 3 + i));
      if ((np & (np - 1)) === 0) assert.is(shm[r].res.strings, "INVALID_ARGUMENT");
    }
  }
});

test("allreduce of a number on some ranks, of an array or with another op or a bcast on one: COLLECTIVE_MISMATCH on every rank within seconds, naming both", async () => {
  for (const mix of ["array", "op", "bcast"]) {
    const res = await run(3, "numbermix", { TESSERA_TRANSPORT: "auto", FIX_MIX: mix });
    for (const x of res) {
      assert.is(x.code, "COLLECTIVE_MISMATCH", `${mix}: ${JSON.stringify(x)}`);
      assert.ok(x.ms < 5000, `${mix}: rank ${x.rank} erred after ${x.ms} ms`);
    }
    const expect = { array: /rank 0 passed a value other than a number, or a function op, to allreduce \(sum\) #2/, op: /allreduce \(max\) #2/, bcast: /called bcast \(root 0\) #2|bcast.*#2/ }[mix];
    if (built) assert.match(res.map((x) => x.message).join("\n"), expect);
  }
});

test("a large allreduce of other lengths on each rank: COLLECTIVE_MISMATCH on every rank, shm as ws", async () => {
  for (const np of [2, 3]) {
    for (const transport of ["ws", "auto"]) {
      const res = await run(np, "mismatch", { TESSERA_TRANSPORT: transport });
      for (const x of res) assert.is(x.code, "COLLECTIVE_MISMATCH", `${transport} ${np}: ${JSON.stringify(x)}`);
      assert.match(res[0].message, /contributed \d+ bytes of Float64 to a reduction of/);
    }
  }
});

test("bcast/gather/allgather/allreduce into an out that cannot take the value: INVALID_ARGUMENT naming both on that rank only; the world goes on (shm and ws)", async () => {
  for (const transport of ["ws", "auto"]) {
    const res = await run(3, "outcheck", { TESSERA_TRANSPORT: transport });
    for (const x of res) {
      assert.is(x.after, 3, `${transport}: the world works after`);
      if (x.rank === 2) {
        assert.is(x.codes.bcast?.code, "INVALID_ARGUMENT", `${transport}: ${JSON.stringify(x.codes)}`);
        assert.match(x.codes.bcast.message, /bcast from rank 0: out \(Float64Array of 1000\) cannot take Float64 of 8008 bytes|cannot take Float64Array of 1001/);
      } else assert.is(x.codes.bcast, null, `${transport} rank ${x.rank}`);
      if (x.rank === 0) {
        assert.is(x.codes.gather?.code, "INVALID_ARGUMENT");
        assert.match(x.codes.gather.message, /gather's out \(Float32Array of 3003\) is not of the value's type and 3 times its length \(Float64Array of 1001, 3 ranks\)/);
      } else assert.is(x.codes.gather, null, `${transport} rank ${x.rank}: out is ignored off the root`);
      if (x.rank === 1) assert.match(x.codes.allreduce?.message ?? "", /allreduce's out \(Float64Array of 7\) is not of the value's type and length \(Float64Array of 1001\)/);
      else assert.is(x.codes.allreduce, null, `${transport} rank ${x.rank}: the others' allreduce completes`);
      if (x.rank === 2) assert.match(x.codes.bcastType?.message ?? "", /bcast from rank 0: out \(Float64Array of 1001\) cannot take Float32 of 8008 bytes/, `${transport}: ${JSON.stringify(x.codes)}`);
      else assert.is(x.codes.bcastType, null);
      assert.is(x.untouched, true, `${transport} rank ${x.rank}: an out that refused the value still holds what it held`);
      if (x.rank === 0) assert.match(x.codes.gatherLength?.message ?? "", /gather's value of rank 1: elements 1001\.\.2002 of out \(Float64Array of 3003\) cannot take Float64 of 8000 bytes|cannot take Float64Array of 1000/, `${transport}: ${JSON.stringify(x.codes)}`);
      else assert.is(x.codes.gatherLength, null);
      // every rank receives rank 1's short value: every rank refuses it, after the allgather completed
      assert.match(x.codes.allgatherLength?.message ?? "", x.rank === 1 ? /allgather's out \(Float64Array of 3003\) is not of the value's type and 3 times its length \(Float64Array of 1000/ : /allgather's value of rank 1: elements 1001\.\.2002 of out \(Float64Array of 3003\) cannot take/, `${transport} rank ${x.rank}: ${JSON.stringify(x.codes.allgatherLength)}`);
      assert.is(x.settled, true, `${transport}: the other ranks' values were in out when the gather rejected`);
    }
  }
});

test("a rank SIGKILLed mid-transfer: every other rank fails with RANK_LOST and exits non-zero within 10 s; /dev/shm is clean", async () => {
  const np = 4;
  const w = await startWorld(np, "killmid", { env: { TESSERA_SHM_RING_BYTES: "65536", FIX_VICTIM: "2", FIX_KILL_MS: "400" }, fixture: FIXTURE });
  const pids = w.ranks.map((r) => r.child.pid);
  try {
    const ready = await Promise.all(Array.from({ length: np }, (_, r) => w.waitFor(r, (l) => l.event === "ready")));
    if (built) assert.ok(ready.every((l) => l.transport === "shm"));
    const killed = await w.ranks[2].exit;
    const t0 = Date.now();
    assert.is(killed.signal, "SIGKILL");
    for (const r of [0, 1, 3]) {
      const l = await w.waitFor(r, (x) => x.event === "rejected", 10000);
      assert.is(l.code, "RANK_LOST", JSON.stringify(l));
      assert.ok(l.n > 0, "it was killed in the middle of the allreduces, not before");
    }
    const exits = await Promise.race([Promise.all([0, 1, 3].map((r) => w.ranks[r].exit)), new Promise((res) => setTimeout(() => res(null), 10000 - (Date.now() - t0)))]);
    assert.ok(exits, "a rank did not exit within 10 s");
    for (const e of exits) assert.is(e.code, 1);
    assert.ok(Date.now() - t0 < 10000);
  } finally {
    w.kill("SIGKILL");
    await w.done(5000);
  }
  assert.equal(createdBy(pids), [], "a segment of this world was left in /dev/shm");
});

test("a rank waiting 1.5 s for a local peer sleeps: it uses little CPU", async () => {
  const w = await startWorld(2, "idle", { env: {}, fixture: FIXTURE });
  const exits = await w.done(20000);
  assert.equal(exits.map((e) => e.code), [0, 0], w.ranks[1].stderr);
  const l = w.ranks[1].lines.find((x) => x.rank === 1);
  assert.is(l.got, "late");
  assert.ok(l.ms > 1400);
  // a spinning wait would take ~1500 ms of CPU; sleeping in the futex takes a few ms
  assert.ok(l.cpuMs < 300, `the wait took ${l.cpuMs} ms of CPU in ${l.ms} ms`);
});

test("TESSERA_TRANSPORT=ws keeps WebSockets; an unknown value is refused", async () => {
  const ok = await startWorld(2, "idle", { env: { TESSERA_TRANSPORT: "ws" }, fixture: FIXTURE });
  assert.equal((await ok.done(20000)).map((e) => e.code), [0, 0], ok.ranks[1].stderr);
  assert.is(ok.ranks[1].lines.find((x) => x.rank === 1)?.transport, "ws");
  const w = await startWorld(2, "equal", { env: { TESSERA_TRANSPORT: "udp" }, fixture: FIXTURE });
  const exits = await w.done(20000);
  for (const [i, x] of w.ranks.entries()) {
    assert.is(exits[i].code, 3);
    assert.match(JSON.stringify(x.lines), /TESSERA_TRANSPORT=\\"udp\\" is not/);
  }
});

test("run.js --np 2 --verbose says which transport each rank used", () => {
  const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
  for (const transport of ["auto", "ws"]) {
    const r = spawnSync(process.execPath, [RUN, "--np", "2", "--verbose", "--workers", "1", "--n", "2000"], { env: { ...process.env, TESSERA_TRANSPORT: transport }, encoding: "utf8", timeout: 60000 });
    assert.is(r.status, 0, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => / transport /.test(l)).sort();
    const want = transport === "ws" ? "transport ws (TESSERA_TRANSPORT=ws)" : built ? "transport shm (shared memory with ranks 0,1)" : "transport ws (";
    assert.is(lines.length, 2, r.stderr);
    lines.forEach((l, i) => assert.ok(l.startsWith(`run.js: rank ${i}/2: ${want}`), l));
  }
});

test.run();
