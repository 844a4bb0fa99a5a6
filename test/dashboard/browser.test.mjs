// The dashboard in a real browser (Debian's headless Chromium, driven by playwright-core): the page is
// opened while a real compute runs, here and on a LocalCluster of 2 workers; once the page says the
// compute finished, what it shows must match the run (workers, tasks done = the plan's task count), a
// failing mapBlocks must appear in its errors panel, and without the token the browser gets a 403.
// Screenshots go to test-output/dashboard/ for a person to look at.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import * as tessera from "../../dist/index.js";
import { launch, OUTPUT } from "./browser.mjs";

const browser = await launch();
const WAIT = { timeout: 60_000 };

/** A mapBlocks whose block [1, 0] throws. */
const failing = () =>
  tessera.random.random([2000, 2000], { chunks: 1000, seed: 3 }).mapBlocks((b, info) => {
    if (info.blockIndex[0] === 1 && info.blockIndex[1] === 0) throw new Error("block one-zero is bad");
    return b.add(1);
  }).sum();

/** Waits until the page shows compute `id` finished; returns its done and total counts. */
async function finished(page, id) {
  const run = page.locator(`.run[data-run="${id}"][data-status="finished"]`);
  await run.waitFor(WAIT);
  return { done: Number(await run.getAttribute("data-done")), total: Number(await run.getAttribute("data-total")) };
}

async function failedShown(page) {
  const li = page.locator('#errors li[data-op="mapBlocks"]');
  await li.first().waitFor(WAIT);
  assert.is(await li.first().getAttribute("data-block"), "1,0", "the failing chunk");
  assert.match(await li.first().textContent(), "block one-zero is bad");
  await page.locator('.run[data-status="failed"]').first().waitFor(WAIT);
}

test("this process: the page follows a compute to its end, then shows a failed mapBlocks", async () => {
  if (!browser) return;
  const d = await tessera.dashboard.start({ port: 0, log: null });
  const page = await browser.context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  try {
    // the page opens while the compute runs (a compute of 400 chunks: long enough to be seen running)
    let total = 0;
    const x = tessera.random.random([20000, 20000], { chunks: 1000, seed: 1 }).add(1).sum();
    const computing = x.compute({ progress: (e) => (total = e.total) });
    await page.goto(d.url);
    await page.locator("#connection.on").waitFor(WAIT);
    const value = await computing;
    assert.type(value, "number");
    const shown = await finished(page, "1");
    assert.is(total, 400, "the plan's task count, as compute's progress counts it");
    assert.equal(shown, { done: total, total });
    await page.waitForFunction((n) => document.getElementById("tasks-done").textContent === String(n), total, WAIT);
    assert.is(await page.locator("#worker-count").textContent(), "1", "one process");
    assert.is(await page.locator("#workers tbody tr").count(), 1);
    const threads = tessera.dashboard && (await page.locator("#thread-count").textContent());
    assert.ok(Number(threads) >= 1);
    assert.ok(await page.locator("canvas#stream").isVisible());
    assert.ok(await page.locator("#memory .uplot").isVisible(), "the memory chart is drawn (uPlot, served from dist/)");
    await failing().compute().then(() => assert.unreachable("it must fail"), (e) => assert.match(e.message, "block one-zero is bad"));
    await failedShown(page);
    await page.screenshot({ path: join(OUTPUT, "local.png"), fullPage: true });
    assert.equal(problems, [], "no script errors on the page");
  } finally {
    await page.close();
    await d.close();
  }
});

test("a LocalCluster of 2 workers: its dashboard shows both, the compute's tasks, and a failed mapBlocks", async () => {
  if (!browser) return;
  const cluster = await tessera.LocalCluster.start({ workers: 2, threadsPerWorker: 1, dashboard: { port: 0 }, log: () => {} });
  const client = await tessera.Client.connect(cluster);
  const page = await browser.context.newPage();
  try {
    assert.match(cluster.dashboardLink, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    await page.goto(cluster.dashboardLink);
    await page.waitForFunction(() => document.getElementById("worker-count").textContent === "2", null, WAIT);
    let total = 0;
    const future = client.compute(tessera.random.random([8000, 8000], { chunks: 1000, seed: 2 }).mapBlocks((b) => b.mul(2)).sum(), { progress: (e) => (total = e.total) });
    await future.result();
    const shown = await finished(page, "1");
    assert.ok(total > 0);
    assert.equal(shown, { done: total, total }, "tasks done = the plan's task count");
    assert.is(await page.locator("#workers tbody tr").count(), 2);
    const names = await page.locator("#workers tbody tr td:first-child").allTextContents();
    assert.equal(names.sort(), cluster.workers.map((w) => w.name).sort());
    await client.compute(failing()).result().then(() => assert.unreachable("it must fail"), (e) => assert.match(e.message, "block one-zero is bad"));
    await failedShown(page);
    await page.screenshot({ path: join(OUTPUT, "cluster.png"), fullPage: true });
  } finally {
    await page.close();
    await client.close();
    await cluster.close();
  }
});

test("a jobs provider (SlurmCluster's) fills the jobs panel; without one it is hidden", async () => {
  if (!browser) return;
  const jobs = [{ id: "4242", state: "running", reason: null, walltimeLeft: 3300 }, { id: "4243", state: "pending", reason: "Resources", walltimeLeft: null }];
  const d = await tessera.dashboard.start({ port: 0, log: null, jobs: () => jobs });
  const plain = await tessera.dashboard.start({ port: 0, log: null });
  const page = await browser.context.newPage();
  try {
    await page.goto(d.url);
    await page.locator('#jobs tr[data-job="4243"]').waitFor(WAIT);
    assert.equal(await page.locator('#jobs tr[data-job="4243"] td').allTextContents(), ["4243", "pending", "Resources", "–"]);
    assert.equal(await page.locator('#jobs tr[data-job="4242"] td').allTextContents(), ["4242", "running", "", "55 min 0 s"]);
    await page.goto(plain.url);
    await page.locator("#connection.on").waitFor(WAIT);
    assert.is(await page.locator("#jobs-panel").isVisible(), false);
  } finally {
    await page.close();
    await d.close();
    await plain.close();
  }
});

test("without the token the browser gets 403 and no page", async () => {
  if (!browser) return;
  const d = await tessera.dashboard.start({ port: 0, log: null });
  const page = await browser.context.newPage();
  try {
    const r = await page.goto(d.url.replace(/\?token=.*/, ""));
    assert.is(r.status(), 403);
    assert.is(await page.locator("#progress").count(), 0);
    const r2 = await page.goto(d.url.replace(/token=./, "token=x"));
    assert.is(r2.status(), 403);
  } finally {
    await page.close();
    await d.close();
  }
});

test.after(async () => {
  await browser?.close();
  await tessera.shutdown();
});

test.run();
