// run.js --dashboard under --np 2: rank 0 serves the dashboard and shows both ranks (the other reports
// to it over the world), their shares of the compute summed to the plan's task count.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "../../dist/cli/args.js";
import { launch, OUTPUT } from "./browser.mjs";

const RUN = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./fixtures/compute-then-wait.mjs", import.meta.url));

test("--dashboard takes an optional port", () => {
  assert.is(parseArgs(["--dashboard"]).dashboard, 8787);
  assert.is(parseArgs(["--dashboard", "9000"]).dashboard, 9000);
  assert.is(parseArgs(["--dashboard=0"]).dashboard, 0);
  const a = parseArgs(["--dashboard", "s.mjs", "7"]);
  assert.equal([a.dashboard, a.script, a.scriptArgs], [8787, "s.mjs", ["7"]], "a script after the flag is not its port");
  assert.throws(() => parseArgs(["--dashboard", "70000"]), /--dashboard "70000" must be an integer from 0 to 65535/);
  assert.is(parseArgs([]).dashboard, undefined);
});

test("--np 2 --dashboard: rank 0 shows both ranks and the whole compute", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tessera-dash-"));
  const go = join(dir, "go");
  const child = spawn(process.execPath, [RUN, "--np", "2", "--workers", "1", "--dashboard", "0", SCRIPT, go], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  child.stderr.on("data", (d) => (err += d));
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.on("exit", (code) => r(code)));
  try {
    const deadline = Date.now() + 60_000;
    let url = null;
    while (!url && Date.now() < deadline) {
      url = /tessera dashboard: (http:\/\/\S+)/.exec(err)?.[1] ?? null;
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `the link is printed (stderr: ${err})`);
    assert.is((err.match(/tessera dashboard:/g) ?? []).length, 1, "one dashboard, rank 0's");
    const at = (path) => url.replace("/?", `${path}?`);
    let s;
    for (;;) {
      s = await (await fetch(at("/snapshot"))).json();
      if (s.runs[0]?.status === "finished" && s.workers.length === 2) break;
      if (Date.now() > deadline) assert.unreachable(`the compute never showed finished: ${JSON.stringify(s.runs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.is(s.kind, "ranks");
    assert.equal(s.workers.map((w) => w.name), ["rank 0", "rank 1"]);
    assert.is(new Set(s.workers.map((w) => w.pid)).size, 2, "two processes");
    assert.equal([s.runs[0].done, s.runs[0].total], [64, 64], "both shares: the plan's 64 tasks");
    assert.ok(s.stream.lanes.some((l) => l.startsWith("rank 1 · thread")), "rank 1's tasks are in the stream");
    const sends = s.stream.bars.filter((b) => s.stream.lanes[b.lane] === "rank 1 · sends");
    assert.ok(sends.length > 0 && sends.every((b) => b.transfer && b.tasks === 0 && /→ rank 0/.test(b.op)), "rank 1's partials sent to rank 0 are marked as transfers");
    assert.match(await (await fetch(at("/metrics"))).text(), /^tessera_workers 2$/m);
    assert.is((await fetch(url.replace(/\?token=.*/, "snapshot"))).status, 403);
    const b = await launch();
    if (b) {
      const page = await b.context.newPage();
      await page.goto(url);
      await page.locator('.run[data-run="1"][data-status="finished"]').waitFor({ timeout: 30_000 });
      assert.is(await page.locator("#worker-word").textContent(), "ranks");
      assert.is(await page.locator("#workers tbody tr").count(), 2);
      await page.screenshot({ path: join(OUTPUT, "ranks.png"), fullPage: true });
      await b.close();
    }
    writeFileSync(go, "");
    assert.is(await exited, 0, `run.js failed: ${err}`);
    assert.match(out, /^24002460\.97/);
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
