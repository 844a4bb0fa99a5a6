// Lost ranks in worlds connected on demand (TESSERA_MESH_MAX=1: 6 ranks, each with links to a few peers
// only): the ranks with links to the lost one notice (a closed connection, or heartbeats that stop), and
// the news floods along the links to every other rank, which fails with RANK_LOST naming it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { launchLocal } from "../../dist/comm/launch.js";
import { FIXTURE } from "./harness.mjs";

for (const sig of ["SIGKILL", "SIGSTOP"]) {
  test(`a rank ${sig === "SIGKILL" ? "killed (SIGKILL)" : "frozen (SIGSTOP)"} in a world of 6 connected on demand: every other rank fails with RANK_LOST naming it within 10 s`, async () => {
    const P = 6;
    const victim = 3;
    const lines = [];
    const children = [];
    const done = launchLocal(P, ["hang"], {
      script: FIXTURE, stdio: ["ignore", "pipe", "ignore"], stopGraceMs: 20_000,
      env: { FIX_VICTIM: String(victim), TESSERA_MESH_MAX: "1" },
      onSpawn: (child) => {
        children.push(child);
        let buf = "";
        child.stdout.on("data", (d) => {
          buf += d;
          for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) lines.push(JSON.parse(buf.slice(0, i)));
        });
      },
    });
    const ready = () => lines.filter((l) => l.event === "ready");
    const t = Date.now();
    while (ready().length < P && Date.now() - t < 30_000) await new Promise((r) => setTimeout(r, 20));
    assert.is(ready().length, P);
    await new Promise((r) => setTimeout(r, 200)); // the others wait in the allreduce
    const pid = ready().find((l) => l.rank === victim).pid;
    const t0 = Date.now();
    process.kill(pid, sig);
    try {
      while (lines.filter((l) => l.event === "rejected").length < P - 1 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 20));
      const rejected = lines.filter((l) => l.event === "rejected");
      assert.is(rejected.length, P - 1, JSON.stringify(lines));
      for (const l of rejected) {
        assert.is(l.code, "RANK_LOST");
        assert.match(l.message, `rank ${victim} was lost`);
        assert.ok(l.t - t0 < 10_000, `rank ${l.rank} noticed after ${l.t - t0} ms`);
      }
      const lost = lines.filter((l) => l.event === "lost");
      assert.ok(lost.length >= P - 1 && lost.every((l) => l.rank === victim), JSON.stringify(lost));
    } finally {
      if (sig === "SIGSTOP") {
        process.kill(pid, "SIGCONT");
        process.kill(pid, "SIGKILL");
      }
    }
    assert.is.not(await done, 0);
  });
}

test.run();
