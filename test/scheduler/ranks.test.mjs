// Rank-partitioned compute: each rank runs the tasks of the chunks it owns and sends each chunk only to
// the ranks that read it. Results must be bit-identical to one process for any rank count.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fork } from "node:child_process";

const FIXTURE = new URL("./fixtures/ipc-rank.mjs", import.meta.url);

function runRanks(size) {
  return new Promise((resolve, reject) => {
    const kids = [];
    const gathers = new Map();
    const results = new Array(size);
    let got = 0;
    const timer = setTimeout(() => {
      kids.forEach((k) => k.kill("SIGKILL"));
      reject(new Error(`ranks=${size} timed out`));
    }, 60_000);
    for (let r = 0; r < size; r++) {
      const k = fork(FIXTURE, { env: { ...process.env, RANK: String(r), SIZE: String(size), TESSERA_WORKERS: "1" }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
      kids.push(k);
      k.on("message", (m) => {
        if (m.type === "allgather") {
          const g = gathers.get(m.seq) ?? new Array(size);
          g[m.rank] = m.bytes;
          gathers.set(m.seq, g);
          if (g.filter(Boolean).length === size) kids.forEach((c) => c.send({ type: "gathered", seq: m.seq, parts: g }));
        } else if (m.type === "p2p") {
          kids[m.to].send(m);
        } else if (m.type === "result") {
          results[m.rank] = m.out;
          if (++got === size) {
            clearTimeout(timer);
            Promise.all(kids.map((c) => (c.exitCode !== null ? null : new Promise((ok) => c.once("exit", ok))))).then(() => resolve(results));
          }
        }
      });
      k.on("exit", (code) => code && reject(new Error(`rank ${r} exited with ${code}`)));
    }
  });
}

test("compute() on 1, 2, 3 and 4 ranks gives bit-identical results on every rank", async () => {
  const [one] = await runRanks(1);
  for (const size of [2, 3, 4]) {
    const all = await runRanks(size);
    all.forEach((res, r) => assert.equal(res, one, `ranks=${size}, rank ${r} differs from one process`));
  }
});

test.run();
