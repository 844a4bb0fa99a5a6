// The dashboard's server: the token guards everything but /health (403 and nothing else without it),
// the endpoints answer in their formats, and a taken port falls back to a free one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:net";
import WebSocket from "ws";
import { dashboard, random } from "../../dist/index.js";

const base = (d) => `http://127.0.0.1:${d.port}`;

function wsOpen(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("open", () => ws.once("message", (m) => resolve({ ws, first: JSON.parse(m.toString()) })));
    ws.on("unexpected-response", (_req, res) => resolve({ status: res.statusCode }));
    ws.on("error", () => {});
  });
}

test("without the token: 403 and nothing served, for the page, its assets, the data and the WebSocket", async () => {
  const d = await dashboard.start({ port: 0, log: null });
  try {
    const wrong = "x".repeat(d.token.length);
    for (const path of ["/", "/index.html", "/assets/app.js", "/assets/uPlot.iife.min.js", "/snapshot", "/metrics", "/nothing"]) {
      for (const q of ["", `?token=${wrong}`, `?token=${d.token.slice(0, -1)}`, "?token="]) {
        const r = await fetch(base(d) + path + q);
        const body = await r.text();
        assert.is(r.status, 403, `${path}${q}`);
        assert.not.match(body, /tessera dashboard|uPlot|tessera_|"workers"/, "nothing of the page or its data");
      }
    }
    const bad = await fetch(`${base(d)}/snapshot`, { headers: { authorization: `Bearer ${wrong}` } });
    assert.is(bad.status, 403);
    assert.equal(await wsOpen(`ws://127.0.0.1:${d.port}/ws`), { status: 403 });
    assert.equal(await wsOpen(`ws://127.0.0.1:${d.port}/ws?token=${wrong}`), { status: 403 });
  } finally {
    await d.close();
  }
});

test("with the token: the page (its assets named with the token), JSON snapshot, metrics, the WebSocket; /health is open", async () => {
  const lines = [];
  const d = await dashboard.start({ port: 0, log: (l) => lines.push(l) });
  try {
    assert.equal(lines, [`tessera dashboard: ${d.url}`], "one line with the link, token included");
    assert.match(d.url, new RegExp(`^http://127\\.0\\.0\\.1:${d.port}/\\?token=[A-Za-z0-9_-]{43}$`));
    const page = await fetch(d.url);
    assert.is(page.status, 200);
    assert.match(page.headers.get("content-type"), "text/html");
    assert.match(page.headers.get("content-security-policy"), "default-src 'none'");
    const html = await page.text();
    assert.ok(html.includes(`assets/app.js?token=${d.token}`));
    assert.not.match(html, /https?:\/\//, "no CDN: every asset is served from here");
    for (const a of ["app.js", "style.css", "uPlot.iife.min.js", "uPlot.min.css"]) assert.is((await fetch(`${base(d)}/assets/${a}?token=${d.token}`)).status, 200, a);
    const snap = await fetch(`${base(d)}/snapshot?token=${d.token}`);
    assert.match(snap.headers.get("content-type"), "application/json");
    const s = await snap.json();
    assert.is(s.kind, "local");
    assert.is(s.workers.length, 1);
    assert.is(s.workers[0].pid, process.pid);
    const metrics = await fetch(`${base(d)}/metrics`, { headers: { authorization: `Bearer ${d.token}` } });
    assert.is(metrics.status, 200, "scrapers send the token as a bearer token");
    assert.match(metrics.headers.get("content-type"), "text/plain; version=0.0.4");
    assert.match(await metrics.text(), /^# HELP tessera_up /);
    const health = await fetch(`${base(d)}/health`);
    assert.is(health.status, 200);
    assert.is(await health.text(), "ok\n", "says nothing but ok");
    assert.is((await fetch(`${base(d)}/nothing?token=${d.token}`)).status, 404);
    const { ws, first } = await wsOpen(`ws://127.0.0.1:${d.port}/ws?token=${d.token}`);
    assert.is(first.version, 1);
    assert.is(first.kind, "local");
    const second = await new Promise((r) => ws.once("message", (m) => r(JSON.parse(m.toString()))));
    assert.ok(second.now >= first.now, "updates keep coming");
    ws.close();
  } finally {
    await d.close();
  }
});

test("a page that says \"ready\" is paced: one update per ready while a compute runs, and one at once when the compute ends", async () => {
  const d = await dashboard.start({ port: 0, log: null, intervalMs: 50 });
  try {
    const { ws, first } = await wsOpen(`ws://127.0.0.1:${d.port}/ws?token=${d.token}`);
    assert.is(first.kind, "local");
    const got = [];
    ws.on("message", (m) => got.push(JSON.parse(m.toString())));
    ws.send("ready");
    const compute = random.random([3000, 3000], { chunks: 300, seed: 3 }).mapBlocks((b) => b.add(1), { trace: false }).sum().compute();
    await new Promise((r) => setTimeout(r, 600)); // 12 ticks
    const whileRunning = got.length;
    assert.ok(whileRunning >= 1 && whileRunning <= 3, `one update for the one ready (and one per state change: the compute began), not one a tick: ${whileRunning}`);
    await compute;
    await new Promise((r) => setTimeout(r, 300));
    const last = got.at(-1);
    assert.is(last.totals.runsFinished, 1, "the end of the compute is sent without a ready");
    assert.is(last.totals.runsRunning, 0);
    const settled = got.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.is(got.length, settled, "nothing more until the page is ready again");
    ws.send("ready");
    await new Promise((r) => setTimeout(r, 200));
    assert.is(got.length, settled + 1);
    ws.close();
  } finally {
    await d.close();
  }
});

test("a taken port: the dashboard takes a free one and says which", async () => {
  const blocker = createServer();
  await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
  const taken = blocker.address().port;
  const d = await dashboard.start({ port: taken, log: null });
  try {
    assert.is.not(d.port, taken);
    assert.match(d.url, `:${d.port}/`);
    assert.is((await fetch(`${base(d)}/health`)).status, 200);
  } finally {
    await d.close();
    blocker.close();
  }
});

test("options are checked", async () => {
  for (const bad of [{ port: -1 }, { port: 70000 }, { nope: 1 }, { token: "short" }, { cluster: {} }, { jobs: 3 }]) {
    try {
      await dashboard.start({ log: null, ...bad });
      assert.unreachable(JSON.stringify(bad));
    } catch (e) {
      assert.is(e.code, "INVALID_ARGUMENT", JSON.stringify(bad));
    }
  }
});

test.run();
