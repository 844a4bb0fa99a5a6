// Issue 15's comparisons (native kernels), from the rows of one run: tessera's throughput ÷ the C control's
// on as many threads as tessera had workers (the machine's limit for that work): the fused random
// pipelines against the C generate-and-sum (target ≥ 0.8), the persisted sum and add against the C
// memory-bandwidth loops (≥ 0.85). The forced-wasm rows get the same ratio as context (no verdict), so
// the gain of the native kernels reads off one table. Run the bench with --workers 1 and with the default
// (2 here) for both thread counts.

export const KERNEL_TARGETS = {
  /** tessera's el/s on random_sum / random_add_sum ÷ the C gensum's doubles/s on the same thread count */
  gensum: 0.8,
  /** tessera's GB/s on sum_existing / add_existing (2nd compute: the persisted array) ÷ the C sum / add's */
  bandwidth: 0.85,
};

const fin = Number.isFinite;
const PAIRS = [
  { cases: ["random_sum", "random_add_sum"], control: "gensum", target: KERNEL_TARGETS.gensum, second: false },
  { cases: ["sum_existing"], control: "sum", target: KERNEL_TARGETS.bandwidth, second: true },
  // against the faster C add of the run: plain stores, or streaming ones (which tessera's kernels use for
  // outputs of 8 MiB and more into memory already faulted in: no read of the lines they overwrite)
  { cases: ["add_existing"], control: ["add", "add-stream"], target: KERNEL_TARGETS.bandwidth, second: true },
  // context: the C add writing into new memory as tessera's persisted a + b does (first-touch faults timed)
  { cases: ["add_existing"], control: "add-fresh", target: null, second: true },
];

/**
 * rows: the bench's summarized rows; each tessera row carries `workers` (from its runs). fmt: the report's
 * throughput formatter (report.mjs fmtThroughput, passed in: report.mjs imports this module).
 */
export function kernelTargetRows(rows, fmt) {
  const out = [];
  const measured = (r) => r && (r.status === "ok" || r.status === "warning") && fin(r.throughput);
  for (const p of PAIRS) {
    for (const base of ["tessera", "tessera-wasm"]) {
      const engine = p.second ? `${base}-2nd` : base;
      for (const t of rows.filter((r) => r.engine === engine && p.cases.includes(r.case))) {
        if (!measured(t) || !fin(t.workers)) continue;
        const threads = Math.min(t.workers, 2);
        const controls = (Array.isArray(p.control) ? p.control : [p.control])
          .map((mode) => rows.find((r) => r.group === t.group && r.engine === `native-${mode}-${threads}t`)).filter(measured);
        if (controls.length === 0) continue;
        const c = controls.reduce((best, r) => (r.throughput > best.throughput ? r : best));
        const control = c.engine.slice("native-".length, -`-${threads}t`.length);
        const value = t.throughput / c.throughput;
        const ours = base === "tessera" && p.target !== null;
        out.push({
          issue: 15, check: `${t.label} ÷ C ${control} ${threads} thread${threads > 1 ? "s" : ""}${t.kernels ? ` (${t.kernels})` : ""}`, case: t.case, n: t.n, value,
          target: ours ? `≥ ${p.target}×` : "", verdict: ours ? (value >= p.target ? "ok" : "MISSED") : "",
          detail: `${fmt(t.throughput, t.unit)} vs ${fmt(c.throughput, t.unit)}`,
        });
      }
    }
  }
  return out;
}
