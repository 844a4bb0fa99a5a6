// The dashboard page: one WebSocket (same token as the page), a snapshot a few times a second (only the
// task-stream bars and memory points it has not had yet), panels redrawn at most once per frame.
// Plain script, no build step: served from dist/ as written.
(() => {
  "use strict";
  const token = new URLSearchParams(location.search).get("token") || "";
  const MAX_BARS = 4000;
  const MAX_POINTS = 1200;
  const state = { snap: null, bars: [], memory: [], receivedAt: 0, dirty: false };
  const $ = (id) => document.getElementById(id);

  // ---- numbers a person reads at a glance ---------------------------------------------------------
  const bytes = (n) => {
    if (n === null || n === undefined) return "–";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) (n /= 1024), i++;
    return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
  };
  const seconds = (s) => (s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 3600 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, String(v));
      else if (k === "style") e.setAttribute("style", v);
      else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  };
  const hue = (s) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 360;
  };

  // ---- connection ----------------------------------------------------------------------------------
  // The server sends an update when the page says "ready" (and at once when a compute ends or fails): the
  // page asks a little before its next frame is due, so it gets what it will draw and no more.
  // An update that comes unasked is the server's "at once" (a change of state): drawn without waiting.
  let socket = null;
  let readyTimer = null;
  let asked = false;
  function ask() {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send("ready");
      asked = true;
    }
  }
  function askForNext() {
    if (readyTimer !== null) clearTimeout(readyTimer);
    readyTimer = setTimeout(() => {
      readyTimer = null;
      ask();
    }, Math.max(0, FRAME_MS - 350));
  }
  function connect() {
    const url = new URL(`ws?token=${encodeURIComponent(token)}`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      setConnection(true);
      ask();
    };
    ws.onmessage = (ev) => receive(JSON.parse(ev.data));
    ws.onclose = () => {
      setConnection(false);
      setTimeout(connect, 1000);
    };
  }
  function setConnection(on) {
    const c = $("connection");
    c.textContent = on ? "live" : "disconnected";
    c.className = `badge ${on ? "on" : "off"}`;
  }

  function receive(s) {
    const first = !state.snap || s.startedAt !== state.snap.startedAt;
    if (first) {
      state.bars = [];
      state.memory = [];
    }
    for (const b of s.stream.bars) state.bars.push(b);
    if (state.bars.length > MAX_BARS) state.bars.splice(0, state.bars.length - MAX_BARS);
    for (const p of s.memory) state.memory.push(p);
    if (state.memory.length > MAX_POINTS) state.memory.splice(0, state.memory.length - MAX_POINTS);
    state.snap = s;
    state.receivedAt = performance.now();
    const urgent = first || !asked;
    asked = false;
    schedule(urgent);
  }

  // Every frame costs the browser its whole pipeline (style, layout, paint, composite: about 10 ms of
  // CPU in software on a compute node's headless Chromium, whatever changed), and it may share the
  // machine with the compute it shows. So while a compute runs the page draws once a second (numbers a
  // person reads like top's), and what the server sends unasked (a compute finished or failed, an error, a
  // worker came or went: model.ts stateKey) at once. Updates arriving meanwhile are drawn together in the next frame.
  const FRAME_MS = 1000;
  let lastFrame = -Infinity;
  let timer = null;
  function schedule(now = false) {
    if (document.hidden || !state.snap) return; // a tab nobody looks at draws nothing (until it is shown)
    if (state.dirty && !now) return;
    if (now && timer !== null) clearTimeout(timer);
    state.dirty = true;
    const wait = now ? 0 : Math.max(0, lastFrame + FRAME_MS - performance.now());
    timer = setTimeout(() => {
      timer = null;
      requestAnimationFrame(render);
    }, wait);
  }

  function render() {
    state.dirty = false;
    lastFrame = performance.now();
    const s = state.snap;
    if (!s) return;
    askForNext();
    renderHeader(s);
    renderProgress(s);
    renderWorkers(s);
    renderErrors(s);
    renderJobs(s);
    renderMemory();
    renderStream(s);
  }

  function renderHeader(s) {
    const ranks = s.kind === "ranks";
    $("kind").textContent = { local: "this process", ranks: "ranks (SPMD)", cluster: "cluster" }[s.kind] || s.kind;
    $("worker-count").textContent = s.workers.length;
    $("worker-word").textContent = ranks ? (s.workers.length === 1 ? "rank" : "ranks") : s.workers.length === 1 ? "worker" : "workers";
    $("workers-title").textContent = ranks ? "Ranks" : s.kind === "local" ? "This process" : "Workers";
    $("thread-count").textContent = s.totals.threads;
    $("tasks-done").textContent = s.totals.tasksDone;
    $("tasks-failed").textContent = s.totals.tasksFailed;
    $("runs-running").textContent = s.totals.runsRunning;
    $("runs-finished").textContent = s.totals.runsFinished;
    $("runs-failed").textContent = s.totals.runsFailed;
  }

  // Panels are rebuilt only when their shape changes (a new compute, a new worker); otherwise their
  // numbers and bar widths are set in place, so an update costs the browser little (it shares the
  // machine with the compute it shows).
  let progressShape = "";
  function renderProgress(s) {
    const box = $("progress");
    const runs = s.runs.slice(-8).reverse(); // the newest first
    if (!runs.length) return;
    const shape = runs.map((r) => `${r.id}:${r.operations.map((o) => o.label).join("|")}`).join(";");
    if (shape !== progressShape) {
      progressShape = shape;
      box.replaceChildren(
        ...runs.map((r) =>
          el("div", { class: "run", "data-run": r.id },
            el("div", { class: "run-head" }, el("b", {}, `compute ${r.id}`), el("span", { class: "status" }), el("span", { class: "counts tasks" }), el("span", { class: "counts took" })),
            ...r.operations.map((o) =>
              el("div", { class: "op", "data-label": o.label },
                el("span", { class: "op-label", title: o.label }, o.label),
                el("span", { class: "bar" }, el("span", { class: "done" }), el("span", { class: "running" }), el("span", { class: "failed" })),
                el("span", { class: "counts" }))))),
      );
    }
    runs.forEach((r, i) => {
      const div = box.children[i];
      set(div, "data-status", r.status);
      set(div, "data-done", r.done);
      set(div, "data-total", r.total);
      const head = div.firstChild;
      text(head.children[1], r.status);
      head.children[1].className = `status ${r.status}`;
      text(head.children[2], `${r.done} / ${r.total} tasks`);
      text(head.children[3], seconds(((r.ended ?? s.now) - r.started) / 1000));
      r.operations.forEach((o, k) => {
        const row = div.children[k + 1];
        set(row, "data-done", o.done);
        set(row, "data-total", o.total);
        set(row, "data-failed", o.failed);
        const pct = (n) => `${o.total ? (100 * n) / o.total : 0}%`;
        const bar = row.children[1].children;
        width(bar[0], pct(o.done));
        width(bar[1], pct(o.running));
        width(bar[2], pct(o.failed));
        text(row.children[2], `${o.done} done, ${o.running} running, ${o.waiting} waiting, ${o.failed} failed`);
      });
    });
  }
  // (each touches the DOM only when the value changed)
  const text = (e, v) => {
    v = String(v);
    if (e.textContent !== v) e.textContent = v;
  };
  const set = (e, k, v) => {
    v = String(v);
    if (e.getAttribute(k) !== v) e.setAttribute(k, v);
  };
  const width = (e, v) => {
    if (e.style.width !== v) e.style.width = v;
  };

  let workersShape = "";
  let workersDrawn = 0;
  function renderWorkers(s) {
    const body = $("workers").tBodies[0];
    const shape = s.workers.map((w) => w.id).join("|");
    // its numbers move every update (CPU, RSS, heartbeat): set once a second, which a person reads as well
    const t = performance.now();
    if (shape === workersShape && t - workersDrawn < 950) return;
    workersDrawn = t;
    if (shape !== workersShape) {
      workersShape = shape;
      body.replaceChildren(...s.workers.map((w) => el("tr", { "data-worker": w.id }, ...Array.from({ length: 10 }, (_, i) => (i === 6 ? el("td", {}, el("span", { class: "mem" }, el("span")), el("span")) : el("td"))))));
    }
    s.workers.forEach((w, i) => {
      const c = body.rows[i].cells;
      const used = w.memoryLimit ? Math.min(100, (100 * w.memoryUsed) / w.memoryLimit) : 0;
      text(c[0], w.name + (w.status === "retiring" ? " (retiring)" : ""));
      text(c[1], w.host);
      text(c[2], w.pid);
      text(c[3], w.threads);
      text(c[4], w.cpu === null ? "–" : `${Math.round(w.cpu)} %`);
      text(c[5], bytes(w.rss));
      width(c[6].firstChild.firstChild, `${used}%`);
      text(c[6].lastChild, `${bytes(w.memoryUsed)} / ${bytes(w.memoryLimit)}`);
      text(c[7], w.chunks);
      text(c[8], w.running);
      const ago = Math.max(0, (s.now - w.lastHeartbeat) / 1000);
      text(c[9], ago < 1 ? "now" : `${Math.round(ago)} s ago`);
    });
  }

  let errorsShape = "";
  function renderErrors(s) {
    const shape = `${s.errors.length}:${s.errors.at(-1)?.time ?? 0}`;
    if (shape === errorsShape) return;
    errorsShape = shape;
    $("error-count").textContent = s.errors.length ? String(s.errors.length) : "none";
    $("errors").replaceChildren(
      ...s.errors.slice().reverse().map((e) =>
        el("li", { "data-run": e.run, "data-op": e.op, "data-block": e.block ? e.block.join(",") : "" },
          el("div", {}, el("b", {}, `compute ${e.run}`), ` · ${e.op} · task ${e.task}`, e.block ? ` · block [${e.block.join(", ")}]` : "", ` · ${e.where} · ${new Date(e.time).toLocaleTimeString()}`),
          el("div", { class: "msg" }, e.message))),
    );
  }

  let jobsShape = "";
  function renderJobs(s) {
    const panel = $("jobs-panel");
    panel.hidden = s.jobs === null;
    if (s.jobs === null) return;
    const shape = JSON.stringify(s.jobs);
    if (shape === jobsShape) return;
    jobsShape = shape;
    $("jobs").tBodies[0].replaceChildren(
      ...s.jobs.map((j) => el("tr", { "data-job": j.id }, el("td", {}, j.id), el("td", {}, j.state), el("td", {}, j.reason ?? ""), el("td", {}, j.walltimeLeft === null ? "–" : seconds(j.walltimeLeft)))),
    );
  }

  // Widths are read when the browser says they changed, never in a frame: reading clientWidth after the
  // frame's DOM writes forces a layout on the spot (it was most of the page's own script time).
  const widths = { memory: 0, stream: 0 };
  const resizes = new ResizeObserver((entries) => {
    for (const e of entries) widths[e.target.id] = Math.round(e.contentRect.width);
    if (state.snap) schedule();
  });
  resizes.observe($("memory"));
  resizes.observe($("stream"));

  // ---- memory over time (uPlot) --------------------------------------------------------------------
  let chart = null;
  let chartPoints = -1;
  let chartDrawn = 0;
  function renderMemory() {
    const box = $("memory");
    const pts = state.memory;
    const last = pts.length ? pts[pts.length - 1].t : 0;
    const resized = chart && Math.abs(chart.width - Math.max(200, widths.memory)) > 4;
    // redrawn when a point came (twice a second while points come), at most once a second: it is the slow line of the page
    if (chart && !resized && (last === chartPoints || performance.now() - chartDrawn < 950)) return;
    chartDrawn = performance.now();
    chartPoints = last;
    const data = [pts.map((p) => p.t / 1000), pts.map((p) => p.used), pts.map((p) => p.rss || null), pts.map((p) => p.limit)];
    const width = Math.max(200, widths.memory);
    if (!chart) {
      if (typeof uPlot !== "function") return;
      chart = new uPlot({
        width, height: 220,
        cursor: { points: { show: false } },
        series: [
          {},
          { label: "kernel memory used", stroke: "#1c7ed6", width: 2, fill: "rgba(28,126,214,0.1)", points: { show: false }, value: (_, v) => bytes(v) },
          { label: "RSS", stroke: "#f08c00", width: 1.5, points: { show: false }, value: (_, v) => bytes(v) },
          { label: "limit", stroke: "#e03131", width: 1, dash: [6, 4], points: { show: false }, value: (_, v) => bytes(v) },
        ],
        axes: [{}, { values: (_, ticks) => ticks.map(bytes), size: 70 }],
        scales: { y: { range: (_, lo, hi) => [0, Math.max(hi, 1)] } },
      }, data, box);
    } else {
      if (Math.abs(chart.width - width) > 4) chart.setSize({ width, height: 220 });
      chart.setData(data);
    }
  }

  // ---- task stream (canvas) ------------------------------------------------------------------------
  let streamShape = "";
  function renderStream(s) {
    const canvas = $("stream");
    const shape = `${s.stream.seq}:${s.stream.running.length}:${widths.stream}`;
    if (shape === streamShape && !s.stream.running.length) return; // idle and unchanged
    streamShape = shape;
    const lanes = s.stream.lanes;
    const rowH = 14;
    const labelW = 150;
    const cssW = widths.stream || 800;
    const cssH = Math.max(60, Math.min(lanes.length, 40) * rowH + 20);
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.height = `${cssH}px`;
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    const now = s.now;
    const all = state.bars.concat(s.stream.running);
    const first = all.reduce((m, b) => Math.min(m, b.start), now);
    const span = Math.max(2000, Math.min(60_000, now - first)); // the last minute at most, at least 2 s
    const t0 = now - span;
    const x = (t) => labelW + ((t - t0) / span) * (cssW - labelW - 8);
    g.font = "11px system-ui, sans-serif";
    g.textBaseline = "middle";
    lanes.slice(0, 40).forEach((name, i) => {
      g.fillStyle = i % 2 ? "#fafbfc" : "#f1f3f5";
      g.fillRect(labelW, i * rowH, cssW - labelW, rowH);
      g.fillStyle = "#495057";
      g.fillText(name.length > 24 ? name.slice(0, 23) + "…" : name, 4, i * rowH + rowH / 2);
    });
    for (const b of all) {
      if (b.lane >= 40) continue;
      const end = b.end ?? now;
      if (end < t0) continue;
      const x0 = Math.max(labelW, x(b.start));
      const w = Math.max(1, x(end) - x0);
      const y = b.lane * rowH + 1;
      // (a bar of no tasks is a transfer between ranks: all of it is drawn as one)
      g.fillStyle = b.failed || (b.transfer && b.tasks === 0) ? "#e03131" : `hsla(${hue(b.op)}, 60%, ${b.end === null ? 70 : 50}%, 1)`;
      g.fillRect(x0, y, w, rowH - 2);
      if (b.transfer) {
        g.fillStyle = "#e03131";
        g.fillRect(x0, y, Math.min(w, 3), rowH - 2);
      }
    }
    g.fillStyle = "#868e96";
    g.fillText(`${seconds(span / 1000)} shown; ${state.bars.length} batches kept`, labelW, cssH - 8);
  }

  // the stream and "last heartbeat" move on between updates
  // while something runs, a frame a second; when nothing does, one every IDLE_MS (heartbeats, CPU)
  const IDLE_MS = 5000;
  setInterval(() => {
    const s = state.snap;
    if (s && (s.totals.runsRunning > 0 || s.stream.running.length > 0 || performance.now() - lastFrame >= IDLE_MS)) schedule();
  }, 1000);
  window.addEventListener("resize", () => state.snap && schedule());
  document.addEventListener("visibilitychange", () => state.snap && schedule());
  connect();
})();
