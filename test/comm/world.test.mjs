// Multi-process worlds of 1, 2, 3, 4 and 8 ranks running every collective (fixtures/rank.mjs "all").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { canonicalReduce } from "../../dist/comm/collectives.js";
import { rankData, digest } from "./fixtures/data.mjs";
import { startWorld } from "./harness.mjs";

async function runAll(np, env = {}) {
  const w = await startWorld(np, "all", { env });
  const exits = await w.done(40000);
  const outs = w.ranks.map((r, i) => {
    assert.equal(exits[i], { code: 0, signal: null }, `rank ${i} exit; stderr: ${r.stderr}`);
    const res = r.lines.find((l) => l.rank === i && "sum" in l);
    assert.ok(res, `rank ${i} printed no result: ${JSON.stringify(r.lines)} ${r.stderr}`);
    return res;
  });
  return outs;
}

function expected(np) {
  const ranks = Array.from({ length: np }, (_, r) => r);
  return {
    small: digest(canonicalReduce(ranks.map((r) => rankData(r, 7)), "sum")),
    large: digest(canonicalReduce(ranks.map((r) => rankData(r, 100_003)), "sum")),
    naive: digest(ranks.map((r) => rankData(r, 100_003)).reduce((acc, a) => acc.map((x, i) => x + a[i]))),
    order: canonicalReduce(ranks.map((r) => `r${r}`), (a, b) => `(${a}+${b})`),
  };
}

const checked = {};
for (const np of [1, 2, 3, 4, 8]) {
  test(`${np} rank(s): every collective, deterministic allreduce`, async () => {
    const outs = await runAll(np, { FIX_JITTER: "15" });
    const exp = expected(np);
    if (np >= 4) assert.is.not(exp.naive, exp.large, "the data is order-sensitive (a left fold differs from the tree)");
    for (const [r, o] of outs.entries()) {
      assert.is(o.size, np);
      assert.equal(o.bcast0, { hello: "from 0", n: [1, 2, 3] });
      assert.is(o.bcastLast, "last");
      assert.equal(o.bcastArr, [5, 6, 7]);
      assert.is(o.sum, (np * (np + 1)) / 2);
      assert.is(o.max, (np - 1) * 10);
      assert.equal(o.min, [0, -(np - 1)]);
      assert.is(o.prod, Array.from({ length: np }, (_, i) => i + 2).reduce((a, b) => a * b, 1));
      assert.is(o.order, exp.order);
      assert.is(o.reduceRoot, r === np - 1 ? (np * (np + 1)) / 2 : undefined);
      assert.is(o.reduceOrder, r === 1 % np ? exp.order : undefined);
      assert.is(o.small, exp.small, `rank ${r} small allreduce bits`);
      assert.is(o.large, exp.large, `rank ${r} large allreduce bits`);
      assert.ok(o.largeInputIntact);
      assert.ok(o.largeReduceEqual);
      assert.equal(o.i32, [(2 ** 30 * np) | 0, (np * (np - 1)) / 2]);
      if (r === 0) assert.equal(o.gather, Array.from({ length: np }, (_, q) => ({ r: q, s: "x".repeat(q) })));
      else assert.is(o.gather, undefined);
      if (r === np - 1) assert.equal(o.gatherArr, Array.from({ length: np }, (_, q) => [q, q / 3]));
      assert.equal(o.allgather, Array.from({ length: np }, (_, q) => q * q));
      assert.equal(o.allgatherBig, Array.from({ length: np }, (_, q) => digest(rankData(q, 20_000))));
      assert.equal(o.bytes, Array.from({ length: np }, (_, q) => [q, q + 1, 255]));
      if (np > 1) assert.equal(o.p2p, { a: { from: (r - 1 + np) % np, tag: 1 }, b: "second", big: true });
      assert.equal(o.concurrent, [np, Array.from({ length: np }, (_, q) => q), [np - 1]]);
    }
    checked[np] = outs[0];
  });
}

test("repeated runs with other arrival timing give bit-identical results", async () => {
  for (const np of [3, 4]) {
    const again = await runAll(np, { FIX_JITTER: "40" });
    assert.is(again[0].large, checked[np].large);
    assert.is(again[0].small, checked[np].small);
  }
});

test.run();
