// One linear-algebra bench case with tessera, once, in a fresh process; prints one JSON line
// {seconds, check}. usage: node bench/linalg_case.mjs CASE N CHUNK WORKERS [COLS]
// CASE: matmul | qr | cumsum0. Inputs are built (and persisted) before the clock starts.
import { fromArray, random, linalg, compute, shutdown } from "../dist/index.js";

const [caseName, n0, chunk0, workers0, cols0] = process.argv.slice(2);
const n = Number(n0), chunk = Number(chunk0), workers = Number(workers0), cols = Number(cols0 ?? 50);
const out = { engine: "tessera", case: caseName, n, chunk, workers };

function inputs() {
  // the same exactly representable values as linalg_peer.py builds
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    a[i * n + j] = ((i * 7 + j * 13) % 1000) / 1000;
    b[i * n + j] = ((i * 11 + j * 3) % 1000) / 1000;
  }
  return [a, b];
}

if (caseName === "matmul") {
  const [ad, bd] = inputs();
  const a = await fromArray(ad, { shape: [n, n], chunks: chunk }).persist();
  const b = await fromArray(bd, { shape: [n, n], chunks: chunk }).persist();
  const colA = new Float64Array(n), rowB = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { colA[j] += ad[i * n + j]; rowB[i] += bd[i * n + j]; }
  let want = 0;
  for (let k = 0; k < n; k++) want += colA[k] * rowB[k];
  const t0 = performance.now();
  const c = await a.matmul(b).compute({ workers });
  out.seconds = (performance.now() - t0) / 1000;
  let s = 0;
  for (const v of c.data) s += v;
  out.check = Math.abs(s - want) / Math.abs(want);
} else if (caseName === "qr") {
  const x = await random.random([n, cols], { seed: 1, chunks: [chunk, cols] }).persist();
  const t0 = performance.now();
  const [q, r] = linalg.qr(x);
  const [, rr] = await compute(q.sum(), r, { workers });
  out.seconds = (performance.now() - t0) / 1000;
  const fro = await x.mul(x).sum().compute();
  let s = 0;
  for (const v of rr.data) s += v * v;
  out.check = Math.abs(s - fro) / fro;
} else if (caseName === "cumsum0") {
  const x = random.random([n, n], { seed: 1, chunks: chunk });
  const t0 = performance.now();
  const s = await x.cumsum({ axis: 0 }).sum().compute({ workers });
  out.seconds = (performance.now() - t0) / 1000;
  const want = (n * n * (n + 1)) / 4;
  out.check = Math.abs(s - want) / want;
} else throw new Error(`unknown case ${caseName}`);
console.log(JSON.stringify(out));
await shutdown();
