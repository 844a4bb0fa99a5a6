// The V8 options launchLocal gives its ranks (comm/launch.ts rankNodeFlags): the optimizing compiler runs in
// the rank's own turn when the ranks fill every core, in the background when a core is spare; the caller's
// execArgv comes after, so it can turn either back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { launchLocal, rankNodeFlags } from "../../dist/comm/launch.js";

const NO_BACKGROUND = "--no-concurrent-recompilation";

test("rankNodeFlags: compile in the rank's turn only when the ranks fill the cores", () => {
  assert.equal(rankNodeFlags(4, 2), [NO_BACKGROUND]);
  assert.equal(rankNodeFlags(2, 2), [NO_BACKGROUND]);
  assert.equal(rankNodeFlags(1, 2), []);
  assert.equal(rankNodeFlags(7, 64), []);
});

/** Each rank of launchLocal(np, ..., { execArgv }) writes its process.execArgv: the list of them by rank. */
async function ranksExecArgv(np, execArgv) {
  const dir = mkdtempSync(join(tmpdir(), "tessera-flags-"));
  try {
    const script = join(dir, "argv.mjs");
    writeFileSync(script, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(dir)} + "/r" + process.env.TESSERA_RANK, JSON.stringify(process.execArgv));\n`);
    const rc = await launchLocal(np, [], { script, stdio: "ignore", execArgv });
    assert.is(rc, 0);
    return Array.from({ length: np }, (_, r) => JSON.parse(readFileSync(join(dir, `r${r}`), "utf8")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("launchLocal: ranks that fill the cores get the flag, before the caller's own options", async () => {
  const cores = availableParallelism();
  for (const argv of await ranksExecArgv(cores, ["--concurrent-recompilation"])) {
    assert.equal(argv, [NO_BACKGROUND, "--concurrent-recompilation"]);
  }
  if (cores > 1) for (const argv of await ranksExecArgv(1, [])) assert.equal(argv, []);
});

test.run();
