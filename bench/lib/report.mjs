// Renders the benchmark summary rows: a terminal table, a markdown page and a hand-written SVG chart.
// rows: { group, case, n, chunk, engine, label, status, reps, median, min, max, throughput, unit,
//         peakRssMiB, vsTessera, note } as bench/run.mjs builds them.

const fin = Number.isFinite;

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

function machineLine(m) {
  return `${m.cpuModel} (family ${m.cpuFamily} model ${m.cpuModelNumber}; ${m.simd.join(" ")}), ${m.cores} cores, ${m.memoryGiB} GiB, ` +
    `load ${m.loadavg.join(" ")}; node ${m.node}, python ${m.python ?? "missing"}, numpy ${m.numpy ?? "missing"}, ` +
    `dask ${m.dask ?? "missing"}, distributed ${m.distributed ?? "missing"}, gcc ${m.gcc ?? "missing"}; linux ${m.kernel}`;
}

export function renderTerminal(rows, skipped, meta) {
  const body = rows.map(tableCells);
  const all = [HEAD, ...body];
  const width = HEAD.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i >= 3 && i <= 7 ? String(c).padStart(width[i]) : String(c).padEnd(width[i]))).join("  ").trimEnd();
  const out = ["", `machine: ${machineLine(meta.machine)}`, `tessera ${meta.tessera.commit}${meta.tessera.dirtyFiles ? ` + ${meta.tessera.dirtyFiles} uncommitted files in src/ assembly/` : ""}, kernels ${meta.tessera.wasmSha256 ?? meta.tessera.dist}`, controlsLine(meta)];
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
  out.push("## Cases", "");
  for (const [c, v] of Object.entries(meta.cases)) out.push(`- **${c}** (${v.title}): ${v.what}`);
  for (const s of skipped) out.push(`- **${s.case}**: skipped. ${s.note}`);
  return out.join("\n") + "\n";
}

const COLORS = {
  tessera: "#d1495b", "tessera-2nd": "#edae49", "dask-threads": "#00798c", "dask-distributed": "#30638e",
  numpy: "#7a9e7e", "native-sum-1t": "#999999", "native-sum-2t": "#666666",
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
