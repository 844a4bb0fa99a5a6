// Lost ranks (SIGKILL, SIGSTOP), an unreachable coordinator, the rendezvous file, and launchLocal.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchLocal } from "../../dist/comm/launch.js";
import { FIXTURE, freePort, startWorld } from "./harness.mjs";

for (const sig of ["SIGKILL", "SIGSTOP"]) {
  test(`a rank ${sig === "SIGKILL" ? "killed (SIGKILL)" : "frozen (SIGSTOP)"} mid-collective: the others reject with RANK_LOST naming it within 10 s`, async () => {
    const w = await startWorld(3, "hang", { env: { FIX_VICTIM: "1" } });
    try {
      const ready = await Promise.all([0, 1, 2].map((r) => w.waitFor(r, (l) => l.event === "ready")));
      await new Promise((r) => setTimeout(r, 200)); // ranks 0 and 2 are waiting in the allreduce
      const t0 = Date.now();
      process.kill(ready[1].pid, sig);
      for (const r of [0, 2]) {
        const l = await w.waitFor(r, (x) => x.event === "rejected", 12000);
        assert.is(l.code, "RANK_LOST");
        assert.match(l.message, /rank 1 /);
        assert.ok(l.t - t0 < 10000, `noticed after ${l.t - t0} ms`);
        const lost = await w.waitFor(r, (x) => x.event === "lost", 1000);
        assert.is(lost.rank, 1);
      }
      const exits = await Promise.race([
        Promise.all([w.ranks[0].exit, w.ranks[2].exit]),
        new Promise((res) => setTimeout(() => res(null), 5000)),
      ]);
      assert.equal(exits, [{ code: 1, signal: null }, { code: 1, signal: null }]);
    } finally {
      if (sig === "SIGSTOP") w.kill("SIGCONT");
      w.kill("SIGKILL");
      await w.done(5000);
    }
  });
}

test("a rank pointed at an unreachable coordinator exits non-zero naming the address, within its timeout", async () => {
  const port = await freePort(); // nothing listens there
  const t0 = Date.now();
  const w = await startWorld(1, "idle", { env: { TESSERA_SIZE: "2", TESSERA_RANK: "1", FIX_TIMEOUT: "1500" }, port });
  const [exit] = await w.done(10000);
  const ms = Date.now() - t0;
  assert.is(exit.code, 3);
  assert.match(w.ranks[0].stderr, `RENDEZVOUS_FAILED`);
  assert.match(w.ranks[0].stderr, `127.0.0.1:${port}`);
  assert.ok(ms < 6000, `took ${ms} ms`);
});

test("rendezvous file under SLURM-like variables: stale file ignored, fresh one used and removed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-rdv-"));
  try {
    const file = join(dir, "rdv.json");
    // a stale record from an earlier job, pointing nowhere useful
    writeFileSync(file, JSON.stringify({ version: 1, job: "41", step: "0", size: 3, host: "127.0.0.1", port: 9, token: "old", nonce: "x", created: 0, pid: 1, hostname: "h" }), { mode: 0o600 });
    const w = await startWorld(3, "all", {
      env: { TESSERA_RANK: "", TESSERA_SIZE: "", TESSERA_TOKEN: "", TESSERA_COORDINATOR: "", TESSERA_RENDEZVOUS: file, SLURM_STEP_NUM_TASKS: "3", SLURM_STEP_NODELIST: "localhost", SLURM_JOB_ID: "42", SLURM_STEP_ID: "0" },
      envFor: (r) => ({ SLURM_PROCID: String(r), SLURM_LOCALID: String(r) }),
    });
    const exits = await w.done(30000);
    for (const [r, e] of exits.entries()) assert.equal(e, { code: 0, signal: null }, w.ranks[r].stderr);
    assert.is(w.ranks[2].lines[0].sum, 6);
    assert.equal(readdirSync(dir), []); // removed by rank 0, no temporary left
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("launchLocal: runs np ranks, and when one fails, stops the siblings and returns non-zero", async () => {
  const ok = await launchLocal(2, ["idle"], { script: FIXTURE, stdio: "ignore" });
  assert.is(ok, 0);
  const t0 = Date.now();
  const pids = [];
  const bad = await launchLocal(3, ["hang"], {
    script: FIXTURE, stdio: ["ignore", "pipe", "ignore"], env: { FIX_VICTIM: "2" },
    onSpawn: (child, rank) => {
      pids[rank] = child.pid;
      // rank 0 dies as soon as it is ready; the victim (rank 2) would wait forever
      if (rank === 0) child.stdout.on("data", (d) => String(d).includes('"ready"') && process.kill(child.pid, "SIGKILL"));
      else child.stdout.resume();
    },
  });
  assert.is.not(bad, 0);
  assert.ok(Date.now() - t0 < 15000);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0)); // all gone
});

test.run();
