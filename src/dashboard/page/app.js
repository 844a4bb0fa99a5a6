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
  function connect() {
    const url = new URL(`ws?token=${encodeURIComponent(token)}`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    ws.onopen = () => setConnection(true);
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
    if (!state.dirty) {
      state.dirty = true;
      requestAnimationFrame(render);
    }
  }

  function render() {
    state.dirty = false;
    const s = state.snap;
    if (!s) return;
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

  function renderProgress(s) {
    const box = $("progress");
    const runs = s.runs.slice(-8).reverse(); // the newest first
    if (!runs.length) return;
    box.replaceChildren(
      ...runs.map((r) => {
        const took = ((r.ended ?? s.now) - r.started) / 1000;
        const head = el("div", { class: "run-head" },
          el("b", {}, `compute ${r.id}`),
          el("span", { class: `status ${r.status}` }, r.status),
          el("span", { class: "counts" }, `${r.done} / ${r.total} tasks`),
          el("span", { class: "counts" }, seconds(took)));
        const ops = r.operations.map((o) => {
          const pct = (n) => `${o.total ? (100 * n) / o.total : 0}%`;
          return el("div", { class: "op", "data-label": o.label, "data-done": o.done, "data-total": o.total, "data-failed": o.failed },
            el("span", { class: "op-label", title: o.label }, o.label),
            el("span", { class: "bar" },
              el("span", { class: "done", style: `width:${pct(o.done)}` }),
              el("span", { class: "running", style: `width:${pct(o.running)}` }),
              el("span", { class: "failed", style: `width:${pct(o.failed)}` })),
            el("span", { class: "counts" }, `${o.done} done, ${o.running} running, ${o.waiting} waiting, ${o.failed} failed`));
        });
        return el("div", { class: "run", "data-run": r.id, "data-status": r.status, "data-done": r.done, "data-total": r.total }, head, ...ops);
      }),
    );
  }

  function renderWorkers(s) {
    const now = s.now;
    $("workers").tBodies[0].replaceChildren(
      ...s.workers.map((w) => {
        const used = w.memoryLimit ? Math.min(100, (100 * w.memoryUsed) / w.memoryLimit) : 0;
        return el("tr", { "data-worker": w.id },
          el("td", {}, w.name + (w.status === "retiring" ? " (retiring)" : "")),
          el("td", {}, w.host),
          el("td", {}, w.pid),
          el("td", {}, w.threads),
          el("td", {}, w.cpu === null ? "–" : `${Math.round(w.cpu)} %`),
          el("td", {}, bytes(w.rss)),
          el("td", {}, el("span", { class: "mem" }, el("span", { style: `width:${used}%` })), `${bytes(w.memoryUsed)} / ${bytes(w.memoryLimit)}`),
          el("td", {}, w.chunks),
          el("td", {}, w.running),
          el("td", {}, `${Math.max(0, (now - w.lastHeartbeat) / 1000).toFixed(1)} s ago`));
      }),
    );
  }

  function renderErrors(s) {
    $("error-count").textContent = s.errors.length ? String(s.errors.length) : "none";
    $("errors").replaceChildren(
      ...s.errors.slice().reverse().map((e) =>
        el("li", { "data-run": e.run, "data-op": e.op, "data-block": e.block ? e.block.join(",") : "" },
          el("div", {}, el("b", {}, `compute ${e.run}`), ` · ${e.op} · task ${e.task}`, e.block ? ` · block [${e.block.join(", ")}]` : "", ` · ${e.where} · ${new Date(e.time).toLocaleTimeString()}`),
          el("div", { class: "msg" }, e.message))),
    );
  }

  function renderJobs(s) {
    const panel = $("jobs-panel");
    panel.hidden = s.jobs === null;
    if (s.jobs === null) return;
    $("jobs").tBodies[0].replaceChildren(
      ...s.jobs.map((j) => el("tr", { "data-job": j.id }, el("td", {}, j.id), el("td", {}, j.state), el("td", {}, j.reason ?? ""), el("td", {}, j.walltimeLeft === null ? "–" : seconds(j.walltimeLeft)))),
    );
  }

  // ---- memory over time (uPlot) --------------------------------------------------------------------
  let chart = null;
  function renderMemory() {
    const box = $("memory");
    const pts = state.memory;
    const data = [pts.map((p) => p.t / 1000), pts.map((p) => p.used), pts.map((p) => p.rss || null), pts.map((p) => p.limit)];
    const width = Math.max(200, box.clientWidth);
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
  function renderStream(s) {
    const canvas = $("stream");
    const lanes = s.stream.lanes;
    const rowH = 14;
    const labelW = 150;
    const cssW = canvas.clientWidth || 800;
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
      g.fillStyle = b.failed ? "#e03131" : `hsla(${hue(b.op)}, 60%, ${b.end === null ? 70 : 50}%, 1)`;
      g.fillRect(x0, y, w, rowH - 2);
      if (b.transfer) {
        g.fillStyle = "#e03131";
        g.fillRect(x0, y, Math.min(w, 3), rowH - 2);
      }
    }
    g.fillStyle = "#868e96";
    g.fillText(`${seconds(span / 1000)} shown; ${state.bars.length} batches kept`, labelW, cssH - 8);
  }

  // the stream and "last heartbeat" move on between updates only when something runs
  setInterval(() => {
    if (state.snap && state.snap.stream.running.length && !state.dirty) {
      state.dirty = true;
      requestAnimationFrame(render);
    }
  }, 1000);
  window.addEventListener("resize", () => state.snap && requestAnimationFrame(render));
  connect();
})();
