// A rank script that returns without closeWorld() exits by itself (comm/index.ts leaveAtExit): the world's
// connections do not hold the process, and at 'beforeExit' the world is left as closeWorld() leaves it,
// once nothing waits for a peer. Each scenario on the shared-memory transport (when built) and on ws.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startWorld } from "./harness.mjs";

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "no-close.mjs");
const TRANSPORTS = ["auto", "ws"];

/** Runs `scenario` on np ranks; every rank must exit 0 within 15 s (killed by PID after). */
async function run(np, scenario, transport, env = {}) {
  const t0 = Date.now();
  const w = await startWorld(np, scenario, { fixture: FIXTURE, env: { TESSERA_TRANSPORT: transport, ...env } });
  const exits = await w.done(15000);
  const seconds = (Date.now() - t0) / 1000;
  for (let r = 0; r < np; r++) {
    assert.equal(exits[r], { code: 0, signal: null }, `${scenario} (${transport}) rank ${r} exit ${JSON.stringify(exits[r])} after ${seconds} s; stderr ${w.ranks[r].stderr}`);
  }
  return { lines: w.ranks.map((x) => x.lines), seconds };
}

for (const transport of TRANSPORTS) {
  test(`${transport}: 3 ranks return after collectives, exit 0 within seconds`, async () => {
    const { lines, seconds } = await run(3, "plain", transport);
    for (let r = 0; r < 3; r++) {
      assert.is(lines[r][0].sum, 6);
      assert.equal(lines[r][0].gathered, [0, 10, 20]);
    }
    assert.ok(seconds < 10, `${seconds} s`);
  });

  test(`${transport}: a rank waiting in a collective without a timer stays until its peer joins 1.5 s later`, async () => {
    const { lines, seconds } = await run(2, "late-peer", transport, { TESSERA_COLLECTIVE_TIMEOUT_MS: "0" });
    for (let r = 0; r < 2; r++) assert.equal(lines[r][0].sum, [1, 2]);
    assert.ok(seconds >= 1.5, `${seconds} s`);
  });

  test(`${transport}: an unawaited send of a returned rank is delivered`, async () => {
    const { lines } = await run(2, "unawaited-send", transport);
    assert.is(lines[1][0].received, true);
  });

  test(`${transport}: an unawaited recv keeps its rank until the message comes`, async () => {
    const { lines } = await run(2, "pending-at-return", transport);
    assert.ok(lines[0].some((l) => l.late === "late"), JSON.stringify(lines[0]));
  });
}

test.run();
