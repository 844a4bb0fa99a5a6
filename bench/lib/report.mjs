// Renders the benchmark summary rows: a terminal table, a markdown page and a hand-written SVG chart.
// rows: { group, case, n, chunk, engine, label, status, reps, median, min, max, throughput, unit,
//         peakRssMiB, vsTessera, note } as bench/run.mjs builds them.

import { kernelTargetRows } from "./kernel-targets.mjs";

const fin = Number.isFinite;

/** The targets of issue 9 the table is read against (see bench/README.md, "Issue 9: before and after"). */
export const TARGETS = {
  /** tessera's time ÷ tessera-before's for the cases that existed before the redesign: within 5% */
  before: 1.05,
  /** tessera's x.mapBlocks((b) => b.add(1)).sum() time ÷ its x.add(1).sum() time in the same run: within 10% */
  mapBlocks: 1.1,
  /** tessera's peak RSS ÷ dask threads' for the cases issue 9 adds: at most dask's */
  rss: 1,
};
/** The targets of issue 10 (storage; see bench/README.md, "Issue 10: storage"). */
export const STORAGE_TARGETS = {
  /** tessera's GB/s ÷ dask threads' on the Zarr write and read cases: at least 2 */
  vsDask: 2,
  /** tessera's write + fdatasync GB/s ÷ the C write() + fdatasync (the disk's limit), uncompressed: at least 0.7 */
  diskLimit: 0.7,
  /** openZarr(p).sum() time ÷ the persisted array's sum time, warm page cache: at most 1.2 */
  sumVsPersisted: 1.2,
  /** tessera's peak RSS writing and reading the Zarr array, MiB: at most 300 */
  rssMiB: 300,
};
/** The Zarr cases whose GB/s issue 10 compares with dask's (uncompressed and zstd; gzip is context). */
const VS_DASK = ["zarr_write", "zarr_write_zstd", "zarr_read", "zarr_read_zstd"];
/** The Zarr write and read cases: tessera's peak RSS at most STORAGE_TARGETS.rssMiB. */
const ZARR_RW = [...VS_DASK, "zarr_write_gzip", "zarr_read_gzip"];
/** The cases whose peak RSS issue 9 compares with dask's. */
const RSS_CASES = ["random_mapblocks_add_sum", "slice_sum", "transpose_add_sum0", "concat_mean1", "reshape_sum", "reshape_existing_sum"];
const STORAGE_ROWS = [...ZARR_RW, "zarr_sum_vs_persisted", "npy_save", "npy_load"];

export function fmtSeconds(s) {
  if (!fin(s)) return "-";
  return s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3);
}

export function fmtThroughput(x, unit) {
  if (!fin(x)) return "-";
  if (unit === "GB/s") return `${(x / 1e9).toFixed(x >= 1e10 ? 1 : 2)} GB/s`;
  if (unit === "ops/s") return x >= 1e4 ? `${(x / 1e3).toFixed(0)}k ops/s (${(1e6 / x).toFixed(1)} µs)` : `${x.toFixed(0)} ops/s (${(1e6 / x).toFixed(0)} µs)`;
  if (unit === "tasks/s") return x >= 1e4 ? `${(x / 1e3).toFixed(0)}k tasks/s` : `${x.toFixed(0)} tasks/s`;
  return x >= 1e9 ? `${(x / 1e9).toFixed(2)} Gel/s` : `${(x / 1e6).toFixed(0)} Mel/s`;
}

const fmtRss = (m) => (fin(m) ? (m < 1 ? "<1" : `${Math.round(m)}`) : "-"); // < 1: exited before the first 20 ms sample
const fmtRatio = (r) => (fin(r) ? (r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`) : "-");
const sizeOf = (r) => (r.case === "ones_tiny_tasks" ? `${r.n.toLocaleString("en-US")}/${r.chunk}` : `${r.n}²`);

function statusText(r) {
  if (r.status === "ok") return "";
  if (r.status === "warning") return `WARNING ${r.note}`;
  return `${r.status}${r.note ? `: ${r.note}` : ""}`;
}

function tableCells(r) {
  const measured = fin(r.median);
  return [
    r.case, sizeOf(r), r.label,
    measured ? fmtSeconds(r.median) : "-",
    measured ? (r.reps > 1 ? `${fmtSeconds(r.min)}–${fmtSeconds(r.max)}` : "(1 rep)") : "-",
    fmtThroughput(r.throughput, r.unit), fmtRss(r.peakRssMiB), fmtRatio(r.vsTessera),
    statusText(r),
  ];
}

const HEAD = ["case", "size", "engine", "median s", "min–max s", "throughput", "peak RSS MiB", "time ÷ tessera", "note"];

function controlsLine(meta) {
  const c = meta.controls;
  const spin = (s) => (s?.ratio !== undefined ? `${s.ratio}` : s?.missing ? "missing" : s?.error ? "error" : "-");
  return `spin control (2-thread ÷ 1-thread rate of a pure ALU loop; ~2.0 on 2 free cores): before ${spin(c.spinBefore)}, after ${spin(c.spinAfter)}`;
}

function contentionWarning(meta) {
  const r = [meta.controls.spinBefore?.ratio, meta.controls.spinAfter?.ratio].filter(fin);
  if (!r.length || meta.machine.cores < 2) return null;
  const lo = Math.min(...r);
  return lo < 1.6 ? `the host was contended (spin ratio ${lo} < 1.6): 2-thread figures are understated; compare ratios, not absolutes` : null;
}

/** Where and how the storage cases ran: the file system measured and the page cache's state for the reads. */
export function storageLine(st) {
  const cache = st.cache === "cold" ? "cold cache (page cache dropped before every timed read)" : "warm cache (every read right after the same engine's write and fdatasync)";
  // older results have no pretouch field: they ran without it
  const writes = st.pretouch ? "writes: memory for the page cache pre-touched (untimed) before each, by every engine" : "writes: no pre-touch";
  return `storage: ${st.n}² float64 in chunks of ${st.chunk}, under ${st.base} (${st.fstype ?? "?"} on ${st.device ?? "?"}, ${st.freeGiB} GiB free at the start); reads: ${cache}; ${writes}`;
}

function beforeLine(meta) {
  const b = meta.tesseraBefore;
  if (!b) return null;
  if (b.missing) return `tessera-before: ${b.selected ? "missing" : "not run"}: ${b.missing}`;
  return `tessera-before: ${b.label}, from ${b.dir}, kernels ${b.wasmSha256}`;
}

function machineLine(m) {
  return `${m.cpuModel} (family ${m.cpuFamily} model ${m.cpuModelNumber}; ${m.simd.join(" ")}), ${m.cores} cores, ${m.memoryGiB} GiB, ` +
    `load ${m.loadavg.join(" ")}; node ${m.node}, python ${m.python ?? "missing"}, numpy ${m.numpy ?? "missing"}, ` +
    `dask ${m.dask ?? "missing"}, distributed ${m.distributed ?? "missing"}, gcc ${m.gcc ?? "missing"}; linux ${m.kernel}`;
}

/**
 * The comparisons issue 9 asks for, from the summary rows of one run: tessera ÷ tessera-before (time for the
 * same work; the persisted sum should be below 1), mapBlocks ÷ add at the same size (tessera's within 10%;
 * tessera-before's and dask's beside it), and tessera's peak RSS ÷ dask threads'.
 * Each: { check, case, n, value, target, verdict ("ok" | "MISSED" | ""), detail }.
 */
export function targetRows(rows) {
  const out = [];
  const measured = (r) => r && (r.status === "ok" || r.status === "warning") && fin(r.throughput);
  const find = (group, engine) => rows.find((r) => r.group === group && r.engine === engine);
  for (const b of rows) {
    if (b.engine !== "tessera-before" && b.engine !== "tessera-before-2nd") continue;
    const second = b.engine.endsWith("-2nd");
    const t = find(b.group, second ? "tessera-2nd" : "tessera");
    if (!measured(t) || !measured(b)) continue;
    const value = b.throughput / t.throughput; // = tessera's time ÷ before's for the same work
    const faster = b.case === "sum_existing"; // contiguous chunks: the persisted sum should gain
    const limit = faster ? 1 : TARGETS.before;
    out.push({
      issue: 9, check: `tessera ÷ before${second ? " (2nd compute)" : ""}`, case: b.case, n: b.n, value,
      target: faster ? "< 1× (contiguous chunks)" : `≤ ${TARGETS.before}×`, verdict: value < limit || (!faster && value === limit) ? "ok" : "MISSED",
      detail: `${fmtSeconds(t.median)} s vs ${fmtSeconds(b.median)} s`,
    });
  }
  for (const mb of rows) {
    if (mb.case !== "random_mapblocks_add_sum" || !["tessera", "tessera-before", "dask-threads"].includes(mb.engine)) continue;
    const add = find(`random_add_sum|${mb.n}`, mb.engine);
    if (!measured(mb) || !measured(add)) continue;
    const value = mb.median / add.median;
    const ours = mb.engine === "tessera";
    out.push({
      issue: 9, check: `mapBlocks ÷ add, ${mb.engine}`, case: mb.case, n: mb.n, value,
      target: ours ? `≤ ${TARGETS.mapBlocks}×` : "", verdict: ours ? (value <= TARGETS.mapBlocks ? "ok" : "MISSED") : "",
      detail: `${fmtSeconds(mb.median)} s vs ${fmtSeconds(add.median)} s`,
    });
  }
  for (const t of rows) {
    if (t.engine !== "tessera" || STORAGE_ROWS.includes(t.case)) continue;
    const d = find(t.group, "dask-threads");
    if (!measured(t) || !measured(d) || !fin(t.peakRssMiB) || !fin(d.peakRssMiB) || d.peakRssMiB <= 0) continue;
    const value = t.peakRssMiB / d.peakRssMiB;
    const asked = RSS_CASES.includes(t.case);
    out.push({
      issue: 9, check: "peak RSS ÷ dask threads", case: t.case, n: t.n, value,
      target: asked ? `≤ ${TARGETS.rss}×` : "", verdict: asked ? (value <= TARGETS.rss ? "ok" : "MISSED") : "",
      detail: `${fmtRss(t.peakRssMiB)} vs ${fmtRss(d.peakRssMiB)} MiB`,
    });
  }
  out.push(...storageTargetRows(rows));
  out.push(...kernelTargetRows(rows, fmtThroughput));
  return out;
}

/**
 * Issue 10's comparisons (the storage cases), from the rows of one run: tessera's GB/s ÷ dask threads' (≥ 2×,
 * uncompressed and zstd), write + fdatasync ÷ the C write + fdatasync (≥ 70% of the disk's limit, uncompressed),
 * openZarr(p).sum() ÷ the persisted sum (≤ 1.2×), tessera's peak RSS writing and reading Zarr (≤ 300 MiB); the
 * page-cache ratios, gzip vs dask, durable vs durable and npy are context (no verdict). A target whose rows
 * were not measured says so ("not measured", with why) rather than vanishing; a tessera row whose result check
 * failed never meets a target.
 */
export function storageTargetRows(rows) {
  const out = [];
  const measured = (r) => r && (r.status === "ok" || r.status === "warning") && fin(r.throughput);
  const find = (group, engine) => rows.find((r) => r.group === group && r.engine === engine);
  const bestC = (group, re) => rows.filter((r) => r.group === group && re.test(r.engine) && measured(r)).sort((a, b) => b.throughput - a.throughput)[0];
  const gbs = (r) => `${(r.throughput / 1e9).toFixed(2)} GB/s`;
  const why = (r, what) => (r ? `${r.label}: ${r.status}${r.note ? ` (${r.note})` : ""}` : `${what}: not run`);
  const T = STORAGE_TARGETS;
  /** A verdict: "" for context, else met / not met; a failed result check (tessera's or the peer's) is said. */
  const verdict = (asked, ok, ours, peer) => {
    if (!asked) return "";
    if (ours?.status === "warning") return "not met (result check failed)";
    if (peer?.status === "warning") return `${ok ? "met" : "not met"} (the peer's result check failed)`;
    return ok ? "met" : "not met";
  };
  for (const t of rows) {
    if (!STORAGE_ROWS.includes(t.case)) continue;
    const push = (row) => out.push({ issue: 10, case: t.case, n: t.n, ...row });
    const unmeasured = (check, target, detail) => push({ check, value: NaN, display: "-", target, verdict: "not measured", detail });
    const isTessera = t.engine === "tessera" || t.engine === "tessera-sync" || t.engine === "tessera-fsync";
    // durable rows: the harness's fdatasync after the write, or toZarr's own fsync option (the disk-limit target's row)
    const sync = t.engine === "tessera-sync" || t.engine === "tessera-fsync";
    if (isTessera && !measured(t)) {
      if (VS_DASK.includes(t.case) && !sync) unmeasured(`${t.label} ÷ dask threads (GB/s)`, `≥ ${T.vsDask}×`, why(t));
      if (t.case === "zarr_sum_vs_persisted" && !sync) unmeasured("file sum ÷ persisted sum, tessera", `≤ ${T.sumVsPersisted}×`, why(t));
      continue;
    }
    if (!measured(t)) continue;
    if (isTessera) {
      const peerEngine = t.engine.replace("tessera", t.case.startsWith("npy") ? "numpy" : "dask-threads");
      const peer = find(t.group, peerEngine);
      if (t.case !== "zarr_sum_vs_persisted") {
        const asked = VS_DASK.includes(t.case) && !sync;
        if (measured(peer)) {
          const value = t.throughput / peer.throughput;
          push({ check: `${t.label} ÷ ${peer.label} (GB/s)`, value, target: asked ? `≥ ${T.vsDask}×` : "", verdict: verdict(asked, value >= T.vsDask, t, peer), detail: `${gbs(t)} vs ${gbs(peer)}` });
        } else if (asked) unmeasured(`${t.label} ÷ dask threads (GB/s)`, `≥ ${T.vsDask}×`, why(peer, "dask threads"));
      }
      const c = t.case === "zarr_sum_vs_persisted" ? null : bestC(t.group, sync ? /^native-store-\dt-sync$/ : /^native-store-\dt$/);
      const hasFsyncRow = rows.some((r) => r.group === t.group && r.engine === "tessera-fsync");
      const askedDisk = t.case === "zarr_write" && (t.engine === "tessera-fsync" || (t.engine === "tessera-sync" && !hasFsyncRow));
      if (c) {
        const value = t.throughput / c.throughput;
        push({ check: `${t.label} ÷ ${c.label} (GB/s)`, value, target: askedDisk ? `≥ ${T.diskLimit}×` : "", verdict: verdict(askedDisk, value >= T.diskLimit, t, c), detail: `${gbs(t)} vs ${gbs(c)}` });
      } else if (askedDisk) {
        unmeasured(`${t.label} ÷ C write() + fdatasync (disk limit) (GB/s)`, `≥ ${T.diskLimit}×`, why(find(t.group, "native-store-1t-sync"), "C control"));
      }
      if (t.engine === "tessera" && t.case !== "zarr_sum_vs_persisted" && fin(t.peakRssMiB)) {
        const asked = ZARR_RW.includes(t.case);
        push({ check: "tessera peak RSS", value: t.peakRssMiB, display: `${fmtRss(t.peakRssMiB)} MiB`, target: asked ? `≤ ${T.rssMiB} MiB` : "", verdict: verdict(asked, t.peakRssMiB <= T.rssMiB, t), detail: `the whole step process, worker threads included${fin(t.timedRssMiB) ? `; during the timed call alone ${fmtRss(t.timedRssMiB)} MiB` : ""}` });
      }
    }
    if (t.case === "zarr_sum_vs_persisted" && (t.engine === "tessera" || t.engine === "dask-threads")) {
      const p = find(t.group, `${t.engine}-persisted`);
      const ours = t.engine === "tessera";
      if (!measured(p)) {
        if (ours) unmeasured("file sum ÷ persisted sum, tessera", `≤ ${T.sumVsPersisted}×`, why(p, "the persisted sum"));
        continue;
      }
      const value = t.median / p.median;
      push({ check: `file sum ÷ persisted sum, ${t.engine}`, value, target: ours ? `≤ ${T.sumVsPersisted}×` : "", verdict: verdict(ours, value <= T.sumVsPersisted, t), detail: `${fmtSeconds(t.median)} s vs ${fmtSeconds(p.median)} s` });
    }
  }
  return out;
}

const TARGET_HEAD = ["check", "case", "size", "ratio", "target", "", "detail"];
const targetCells = (t) => [t.check, t.case, t.case === "ones_tiny_tasks" ? t.n.toLocaleString("en-US") : `${t.n}²`, t.display ?? fmtRatio(t.value), t.target, t.verdict, t.detail];

function targetsTerminal(rows, meta) {
  const all = targetRows(rows);
  return [9, 10, 15].flatMap((issue) => targetsTable(all.filter((t) => t.issue === issue), meta, issue));
}

const TARGET_INTRO = {
  9: "ratios of medians in this run; ratio < 1: tessera is faster or smaller",
  10: "storage; ratios of medians in this run; GB/s ratios > 1: tessera is faster",
  15: "native kernels; tessera's throughput ÷ the C control's on as many threads, medians of this run",
};

function targetsTable(targets, meta, issue) {
  if (!targets.length) return [];
  const all = [TARGET_HEAD, ...targets.map(targetCells)];
  const width = TARGET_HEAD.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 3 ? String(c).padStart(width[i]) : String(c).padEnd(width[i]))).join("  ").trimEnd();
  const quick = meta.options.quick ? " --quick: runs of a few ms and peak RSS near the processes' baseline (node about 85 MiB, python about 65): read the targets from a full run." : "";
  return ["", `Issue ${issue} targets (${TARGET_INTRO[issue]}).${quick}`, "", line(TARGET_HEAD),
    width.map((w) => "-".repeat(w)).join("  "), ...targets.map((t) => line(targetCells(t)))];
}

export function renderTerminal(rows, skipped, meta) {
  const body = rows.map(tableCells);
  const all = [HEAD, ...body];
  const width = HEAD.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i >= 3 && i <= 7 ? String(c).padStart(width[i]) : String(c).padEnd(width[i]))).join("  ").trimEnd();
  const out = ["", `machine: ${machineLine(meta.machine)}`, `tessera ${meta.tessera.commit}${meta.tessera.dirtyFiles ? ` + ${meta.tessera.dirtyFiles} uncommitted files in src/ assembly/` : ""}, kernels ${meta.tessera.wasmSha256 ?? meta.tessera.dist}`, controlsLine(meta)];
  if (meta.storage) out.push(storageLine(meta.storage));
  const cw = contentionWarning(meta);
  if (cw) out.push(`WARNING ${cw}`);
  out.push("", line(HEAD), width.map((w) => "-".repeat(w)).join("  "));
  let prev = null;
  for (let i = 0; i < rows.length; i++) {
    if (prev !== null && rows[i].group !== prev) out.push("");
    prev = rows[i].group;
    out.push(line(body[i]));
  }
  if (skipped.length) out.push("");
  for (const s of skipped) out.push(`skipped  ${s.note}`);
  out.push("", `median of ${meta.options.reps} interleaved reps (A B A B); time ÷ tessera > 1: tessera is faster. Peak RSS: whole process tree, sampled every 20 ms (the tree rescanned every 200 ms).`);
  const before = beforeLine(meta);
  if (before) out.push(before);
  out.push(...targetsTerminal(rows, meta));
  return out.join("\n");
}

export function renderMarkdown(rows, skipped, meta, svgName) {
  const esc = (s) => String(s).replace(/\|/g, "\\|");
  const out = [
    `# tessera benchmark: ${meta.started}`, "",
    `- machine: ${machineLine(meta.machine)}`,
    `- tessera: commit ${meta.tessera.commit}${meta.tessera.dirtyFiles ? ` with ${meta.tessera.dirtyFiles} uncommitted files in src/ assembly/` : ""}, kernels sha256 ${meta.tessera.wasmSha256 ?? "-"}`,
    `- ${controlsLine(meta)}`,
    `- options: reps ${meta.options.reps} (interleaved), sizes ${meta.options.sizes.join(", ")}, chunk ${meta.options.chunk}, existing arrays ${meta.options.existingN}², workers ${meta.options.workers}, seed ${meta.options.seed}${meta.options.quick ? ", --quick" : ""}; ${meta.seconds} s in all`,
    `- python peers: ${meta.pythonPeers}`,
  ];
  if (meta.storage) out.push(`- ${storageLine(meta.storage)}`);
  const before = beforeLine(meta);
  if (before) out.push(`- ${before}`);
  const cw = contentionWarning(meta);
  if (cw) out.push(`- **warning**: ${cw}`);
  out.push("", `![throughput per case](${svgName})`, "", `| ${HEAD.join(" | ")} |`, `|${HEAD.map((_, i) => (i >= 3 && i <= 7 ? "---:" : "---")).join("|")}|`);
  for (const r of rows) {
    const cells = tableCells(r).map(esc);
    if (r.engine === "tessera") cells[2] = `**${cells[2]}**`;
    out.push(`| ${cells.join(" | ")} |`);
  }
  for (const s of skipped) out.push(`| ${s.case} | - | - | - | - | - | - | - | skipped: ${esc(s.note)} |`);
  out.push("", "Median of the interleaved reps; min–max over them. Throughput: elements/s (el/s) for the random pipelines, GB/s of array data for the existing arrays, tasks/s for the per-task case. time ÷ tessera: the engine's time for tessera's work (from throughputs), > 1 means tessera is faster. Peak RSS: the whole process tree (dask distributed's workers included), sampled every 20 ms (the tree rescanned every 200 ms).", "");
  const all = targetRows(rows);
  const intro = { 9: "Ratios of medians in this run; below 1, tessera is faster (or smaller).", 10: "Storage: ratios of medians in this run; GB/s ratios above 1, tessera is faster.", 15: "Native kernels: tessera's throughput ÷ the C control's on as many threads (the machine's limit for that work), medians of this run; the wasm rows are context." };
  for (const issue of [9, 10, 15]) {
    const targets = all.filter((t) => t.issue === issue);
    if (!targets.length) continue;
    const quick = meta.options.quick ? " With --quick, runs of a few ms and peak RSS near the processes' baseline: read the targets from a full run." : "";
    out.push(`## Issue ${issue} targets`, "", `${intro[issue]}${quick}`, "",
      `| ${TARGET_HEAD.map((h) => h || "verdict").join(" | ")} |`, `|${TARGET_HEAD.map((_, i) => (i === 3 ? "---:" : "---")).join("|")}|`);
    for (const t of targets) out.push(`| ${targetCells(t).map(esc).join(" | ")} |`);
    out.push("");
  }
  out.push("## Cases", "");
  for (const [c, v] of Object.entries(meta.cases)) out.push(`- **${c}** (${v.title}): ${v.what}`);
  for (const s of skipped) out.push(`- **${s.case}**: skipped. ${s.note}`);
  return out.join("\n") + "\n";
}

const COLORS = {
  tessera: "#d1495b", "tessera-2nd": "#edae49", "dask-threads": "#00798c", "dask-distributed": "#30638e",
  "tessera-before": "#8c6bb1", "tessera-before-2nd": "#b9a3d3", numpy: "#7a9e7e", "native-sum-1t": "#999999", "native-sum-2t": "#666666",
  "native-add-1t": "#999999", "native-add-2t": "#666666", mpi4py: "#30638e",
  "tessera-np1-w1": "#e8838f", "tessera-np1-w2": "#edae49", "native-gensum-1t": "#999999", "native-gensum-2t": "#666666",
};
const xml = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars: one block per case and size, one bar per engine, lengths proportional to throughput
 *  within the block (units differ between cases); labels give the value and time ÷ tessera. */
export function renderSvg(rows, meta) {
  const groups = [];
  for (const r of rows) {
    if (!fin(r.throughput)) continue;
    let g = groups.find((x) => x.key === r.group);
    if (!g) groups.push((g = { key: r.group, title: r.title ?? `${meta.cases[r.case]?.title ?? r.case}${r.case === "ones_tiny_tasks" ? "" : `, ${r.n}²${r.chunk ? ` (chunks ${r.chunk})` : ""}`}`, rows: [] }));
    g.rows.push(r);
  }
  const W = 1040, labelW = 190, barX = labelW + 10, barMax = 400, rowH = 18, gap = 14, headH = 20;
  let y = 58;
  const parts = [];
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 13}" class="h">${xml(g.title)}</text>`);
    y += headH;
    const max = Math.max(...g.rows.map((r) => r.throughput));
    for (const r of g.rows) {
      const w = Math.max(1, (r.throughput / max) * barMax);
      const fill = COLORS[r.engine] ?? "#aaaaaa";
      const ratio = r.engine === "tessera" ? "" : fin(r.vsTessera) ? `  ·  time ÷ tessera ${fmtRatio(r.vsTessera)}` : "";
      const warn = r.status === "warning" ? "  ·  WARNING: result check failed" : "";
      parts.push(
        `<text x="${labelW}" y="${y + 13}" text-anchor="end"${r.engine === "tessera" ? ' class="b"' : ""}>${xml(r.label)}</text>`,
        `<rect x="${barX}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${fill}"/>`,
        `<text x="${(barX + w + 6).toFixed(1)}" y="${y + 13}">${xml(fmtThroughput(r.throughput, r.unit) + ratio + warn)}</text>`,
      );
      y += rowH;
    }
    y += gap;
  }
  const m = meta.machine;
  const H = y + 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<style>text{fill:#222}.h{font-weight:bold;font-size:13px}.b{font-weight:bold}.t{font-size:16px;font-weight:bold}.s{fill:#555;font-size:11px}</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="22" class="t">tessera vs peers: throughput per case (longer is faster; bars scaled within each case)</text>
<text x="10" y="42" class="s">${xml(`${m.cpuModel}, ${m.cores} cores, node ${m.node}, dask ${m.dask ?? "-"}, numpy ${m.numpy ?? "-"}; median of ${meta.options.reps} interleaved reps; ${meta.started.slice(0, 16).replace("T", " ")} UTC`)}</text>
${parts.join("\n")}
<text x="10" y="${H - 10}" class="s">${xml(`${controlsLine(meta)}. C rows: the machine's limit (native code, same work).`)}</text>
</svg>
`;
}
