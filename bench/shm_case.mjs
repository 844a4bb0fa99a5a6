// One rank of bench/shm.mjs: the protocol of bench/peers/mpi_collectives.c on tessera's world (whatever
// transport TESSERA_TRANSPORT picks): allreduce of one float64 (a JS number, LAT timed ops after 200
// warm-up, each timed on its own; median; then 10,000 more after 20,000 more: the steady state), of 64 MiB of float64 (BW_REPS after one warm-up, a barrier
// before each; median) into one reused result array (`out`, as MPI's receive buffer), and into a new one
// each time, bcast of 1 MiB (a Uint8Array) from rank 0 and gather of 1 MiB per rank to rank 0
// (REPS each after a barrier; median; into reused buffers, and into new arrays). Rank 0 prints one JSON line.
//   node bench/shm_case.mjs [LAT] [BW_MIB] [BW_REPS] [REPS]   (under launchLocal: TESSERA_RANK etc.)
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const comm = await import(pathToFileURL(join(here, "..", "dist", "comm", "index.js")).href);
const [lat = 2000, bwMiB = 64, bwReps = 5, reps = 50] = process.argv.slice(2).map(Number);
const w = await comm.initWorld();
const { rank: r, size: P } = w;
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2;
};
const out = { engine: `tessera-${comm.transportReport().transport}`, ranks: P };

let v = 0;
for (let i = 0; i < 200; i++) v = await w.allreduce(r + 1);
await w.barrier();
const t = new Float64Array(Math.max(lat, reps, bwReps));
for (let i = 0; i < lat; i++) {
  const t0 = performance.now();
  v = await w.allreduce(r + 1);
  t[i] = performance.now() - t0;
}
out.lat_median_us = median(t.subarray(0, lat)) * 1e3;
out.lat_ok = v === (P * (P + 1)) / 2;
// and in the steady state: STEADY_WARM more ops (the JIT's tiers and its background compiles, which on
// 2 cores take a core from the ranks, are over by then), then STEADY_LAT timed ones (the MPI peer does the same)
const STEADY_WARM = 20000;
const STEADY_LAT = 10000;
for (let i = 0; i < STEADY_WARM; i++) v = await w.allreduce(r + 1);
await w.barrier();
const ts = new Float64Array(STEADY_LAT);
for (let i = 0; i < STEADY_LAT; i++) {
  const t0 = performance.now();
  v = await w.allreduce(r + 1);
  ts[i] = performance.now() - t0;
}
out.lat_steady_median_us = median(ts) * 1e3;
out.lat_ok &&= v === (P * (P + 1)) / 2;

const n = (bwMiB << 20) / 8;
const a = new Float64Array(n);
for (let i = 0; i < n; i++) a[i] = (i % 1000) + r;
// as MPI_Allreduce(a, b): into one result array, reused (mpi_collectives.c's b, faulted in by the warm-up)
const b = new Float64Array(n);
await w.allreduce(a, "sum", { out: b });
for (let k = 0; k < bwReps; k++) {
  await w.barrier();
  const t0 = performance.now();
  await w.allreduce(a, "sum", { out: b });
  t[k] = performance.now() - t0;
}
out.bw_bytes = a.byteLength;
out.bw_gb_per_s = a.byteLength / (median(t.subarray(0, bwReps)) / 1e3) / 1e9;
const sumOk = (x) => x[n - 1] === P * ((n - 1) % 1000) + (P * (P - 1)) / 2 && x[7] === P * 7 + (P * (P - 1)) / 2;
out.bw_ok = sumOk(b);
// and a new result array each time (the fresh pages of each are faulted in while it is written)
let c = null;
for (let k = 0; k < bwReps; k++) {
  c = null;
  await w.barrier();
  const t0 = performance.now();
  c = await w.allreduce(a);
  t[k] = performance.now() - t0;
}
out.bw_new_gb_per_s = a.byteLength / (median(t.subarray(0, bwReps)) / 1e3) / 1e9;
out.bw_ok &&= sumOk(c);
c = null;

// bcast and gather as MPI's: into buffers made once (a rank's receive buffer `rb`, the root's gather buffer
// `gb`: options.out), and (tessera) into new arrays each time. A bcast is also timed on its slowest rank
// (each rep's maximum over the ranks): the root returns once its value is posted, before any rank has it.
const m = 1 << 20;
const s = new Uint8Array(m).fill(r);
const rb = new Uint8Array(m).fill(255);
const gb = new Uint8Array(m * P).fill(255);
async function timeReps(op) {
  for (let k = 0; k < 5; k++) await op();
  let v;
  for (let k = 0; k < reps; k++) {
    await w.barrier();
    const t0 = performance.now();
    v = await op();
    t[k] = performance.now() - t0;
  }
  const slowest = await w.reduce(t.slice(0, reps), "max", 0);
  return { v, here: median(t.subarray(0, reps)) * 1e3, slowest: r === 0 ? median(slowest) * 1e3 : null };
}
const bc = await timeReps(() => w.bcast(r === 0 ? s : null, 0, { out: r === 0 ? undefined : rb }));
out.bcast_1mib_us = bc.here;
out.bcast_1mib_slowest_us = bc.slowest;
const bcNew = await timeReps(() => w.bcast(r === 0 ? s : null, 0));
out.bcast_new_1mib_slowest_us = bcNew.slowest;
const bcastOk = (x) => x.length === m && x[0] === 0 && x[m - 1] === 0;
const ga = await timeReps(() => w.gather(s, 0, { out: gb }));
out.gather_1mib_us = ga.here;
const gaNew = await timeReps(() => w.gather(s, 0));
out.gather_new_1mib_us = gaNew.here;
const gatherOk = (g) => r !== 0 || (g.length === P && g.every((x, q) => x.length === m && x[0] === q && x[m - 1] === q));
out.gather_ok = gatherOk(ga.v) && gatherOk(gaNew.v) && (r !== 0 || ga.v[P - 1].buffer === gb.buffer) && bcastOk(bc.v) && bcastOk(bcNew.v);
if (r === 0) console.log(JSON.stringify(out));
await comm.closeWorld();
