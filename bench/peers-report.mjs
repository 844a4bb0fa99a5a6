// Measures the peers alone (no tessera): `node bench/peers-report.mjs [--quick] [--sizes 10000,20000] [--reps 3] [--json out.json]`.
// Runs each engine/case interleaved (A B A B), a native spin control before and after, and prints
// medians. The tutorial bench uses the same functions to put tessera beside these figures.
import { writeFileSync } from "node:fs";
import { interleave, machineInfo, median, minmax } from "./lib/measure.mjs";
import { runDask, runNativeGensum, runNativeSpin, runNativeSum, runNumpy } from "./lib/peers.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const quick = process.argv.includes("--quick");
const sizes = arg("--sizes", quick ? "4000" : "10000,20000").split(",").map(Number);
const reps = Number(arg("--reps", quick ? 1 : 3));
const chunk = Number(arg("--chunk", quick ? 1000 : 2000));

const engines = [
  { name: "dask threads", cases: ["random_sum", "random_mapblocks_add_sum", "mean_axis0"], run: (c, n) => runDask(c, { n, chunk }) },
  { name: "dask distributed 2x1", cases: ["random_mapblocks_add_sum"], run: (c, n) => runDask(c, { n, chunk, scheduler: "distributed", workers: 2 }) },
  { name: "numpy 1 thread", cases: ["random_sum", "random_mapblocks_add_sum", "mean_axis0"], run: (c, n) => runNumpy(c, { n, chunk }) },
];

const info = machineInfo();
console.log(JSON.stringify(info));
const spinBefore = await runNativeSpin(1);
const controls = { spinBefore, sum1: await runNativeSum(), sum2: await runNativeSum({ threads: 2 }), gensum: await runNativeGensum(1e9) };
for (const [k, v] of Object.entries(controls)) console.log(k, JSON.stringify(v));

const jobs = [];
for (const n of sizes) for (const e of engines) for (const c of e.cases) jobs.push({ key: `${e.name} | ${c} | n=${n}`, run: () => e.run(c, n) });
const results = new Map(jobs.map((j) => [j.key, []]));
for (const { item } of interleave(jobs, reps)) {
  const r = await item.run();
  results.get(item.key).push(r);
  if (r.missing || r.error) console.log(item.key, r.missing ?? r.error);
}
controls.spinAfter = await runNativeSpin(1);
console.log("spinAfter", JSON.stringify(controls.spinAfter));

console.log("\nengine | case | n | median s | min-max s | peak RSS MiB | result");
for (const [key, rs] of results) {
  const ok = rs.filter((r) => Number.isFinite(r.seconds));
  if (!ok.length) continue;
  const s = ok.map((r) => r.seconds), mm = minmax(s);
  console.log(`${key} | ${median(s).toFixed(3)} | ${mm.min.toFixed(3)}-${mm.max.toFixed(3)} | ${Math.max(...ok.map((r) => r.harnessPeakRssMiB))} | ${ok[0].result}`);
}
const out = arg("--json");
if (out) writeFileSync(out, JSON.stringify({ info, controls, results: Object.fromEntries(results) }, null, 1));
