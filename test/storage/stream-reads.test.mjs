// Streamed reads (plan/stream-reads.ts): a stored array read by one program is read slab by slab into
// the worker's window and computed there. Every result must be the same bits as the unstreamed plan
// (a read layer materializing each chunk, TESSERA_STREAM_READS=0), for reductions over every axis,
// elementwise results, two streams in one program, dtype conversion on disk, missing and edge chunks,
// tasks over several storage chunks, rows longer than the window, and 3-D arrays; the plans that must
// not stream (compressed, sliced, scans) do not, and stay right; a bad chunk is still a coded error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openZarr, toZarr, loadNpy, saveNpy, random, histogram, slice, compute, shutdown } from "../../dist/index.js";
import { lower } from "../../dist/graph/lower.js";
import { rejectsCode } from "../helpers/check.mjs";

const dir = mkdtempSync(join(tmpdir(), "tessera-stream-"));
const at = (name) => join(dir, name);

/** Slot kinds of a result's plan: does it stream? */
function streams(x) {
  const { plan } = lower([{ node: x.node, chunks: x.chunks }]);
  return plan.kernels.some((k) => k.slots.some((s) => s.kind === "stream"));
}

/** The bits of a result (number, boolean or NDArray), as a string to compare. */
function bits(v) {
  if (typeof v === "number") return Buffer.from(new Float64Array([v]).buffer).toString("hex");
  if (typeof v === "boolean") return String(v);
  const d = v.data;
  return `${v.dtype}[${v.shape}]:${Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString("base64")}`;
}

/** Computes `make()` streamed and unstreamed; asserts the same bits and that it streamed (or not). */
async function same(label, make, shouldStream = true) {
  assert.is(streams(make()), shouldStream, `${label}: ${shouldStream ? "streams" : "does not stream"}`);
  const streamed = await make().compute();
  process.env.TESSERA_STREAM_READS = "0";
  try {
    assert.is(streams(make()), false);
    const plain = await make().compute();
    assert.is(bits(streamed), bits(plain), label);
    return streamed;
  } finally {
    delete process.env.TESSERA_STREAM_READS;
  }
}

test("reductions over every axis, elementwise results and two streams: the same bits as the materialized read", async () => {
  const p = at("a.zarr");
  const q = at("b.zarr");
  // edge chunks on both axes; NaN-free uniforms with a wide range so the sums' rounding order shows
  await toZarr(random.uniform(-1e6, 1e6, [700, 530], { chunks: [128, 96], seed: 1 }), p, { codec: "none" });
  await toZarr(random.uniform(-1, 1, [700, 530], { chunks: [128, 96], seed: 2 }), q, { codec: "none" });
  const a = () => openZarr(p);
  const b = () => openZarr(q);
  const total = await same("sum", () => a().sum());
  assert.ok(Number.isFinite(total) && total !== 0);
  for (const axis of [0, 1]) {
    await same(`sum axis ${axis}`, () => a().sum({ axis }));
    await same(`mean axis ${axis}`, () => a().mean({ axis }));
    await same(`var axis ${axis}`, () => a().var({ axis }));
    await same(`argmax axis ${axis}`, () => a().argmax({ axis }));
    await same(`min axis ${axis}`, () => a().min({ axis }));
  }
  for (const op of ["mean", "std", "max", "argmin", "prod"]) await same(op, () => a().mul(1e-6)[op]());
  await same("any", () => a().gt(999_990).any());
  await same("histogram", () => histogram(a(), { bins: 37, range: [-1e6, 1e6] })[0]);
  await same("elementwise result", () => a().mul(3).add(1));
  await same("two streams", () => a().add(b().mul(7)).sum({ axis: 0 }));
  await same("two openZarr of one file: two streams", () => a().mul(a()).sum());
  await same("one stored array read through two slots: the read stays", () => {
    const x = a();
    return x.add(x.get(slice(null, null, -1))).sum();
  }, false);
  // read chunks of several storage chunks, and smaller than them
  await same("tasks over 2x3 storage chunks", () => openZarr(p, { chunks: [256, 288] }).sum({ axis: 1 }));
  await same("tasks within storage chunks", () => openZarr(p, { chunks: [64, 48] }).sum());
});

test("rows longer than the window (slabs of whole tiles), 3-D, float32, int16 on disk, missing chunks", async () => {
  const long = at("long.zarr");
  await toZarr(random.random([300_001], { chunks: 100_000, seed: 3 }), long, { codec: "none" });
  await same("1-D rows of 800 kB", () => openZarr(long).sum());
  await same("1-D mean", () => openZarr(long, { chunks: 150_000 }).mean());
  const wide = at("wide.zarr");
  await toZarr(random.random([3, 70_001], { chunks: [2, 40_000], seed: 4 }), wide, { codec: "none" });
  await same("2-D rows longer than the window", () => openZarr(wide).sum({ axis: 1 }));
  await same("2-D rows longer than the window, all", () => openZarr(wide).sum());
  const cube = at("cube.zarr");
  await toZarr(random.random([6, 300, 200], { chunks: [2, 150, 100], seed: 5 }), cube, { codec: "none" });
  for (const axis of [0, 1, 2]) await same(`3-D sum axis ${axis}`, () => openZarr(cube).sum({ axis }));
  const f32 = at("f32.zarr");
  await toZarr(random.random([513, 257], { chunks: [100, 100], seed: 6 }).astype("float32"), f32, { codec: "none" });
  await same("float32", () => openZarr(f32).sum({ axis: 0 }));
  const i16 = at("i16.zarr");
  await toZarr(random.random([400, 300], { chunks: [128, 128], seed: 7 }).mul(30000).floor(), i16, { codec: "none", dtype: "int16" });
  assert.is(openZarr(i16).dtype, "int32");
  await same("int16 on disk, read as int32", () => openZarr(i16).sum({ axis: 1 }));
  await same("int16 on disk, max", () => openZarr(i16).max({ axis: 1 }));
  rmSync(join(i16, "1.1"));
  await same("a missing chunk reads as the fill value", () => openZarr(i16).max({ axis: 0 }));
});

test("what must not stream does not, and is still right: compressed, sliced, a scan, the array itself", async () => {
  const p = at("a.zarr");
  const z = at("z.zarr");
  await toZarr(openZarr(p), z, { codec: "zstd" });
  await same("zstd", () => openZarr(z).sum(), false);
  await same("a slice", () => openZarr(p).get(slice(10, 500), slice(3, 400)).sum(), false);
  await same("a scan", () => openZarr(p).cumsum({ axis: 0 }).sum(), false);
  await same("the array itself", () => openZarr(p), false);
  const [x, total] = await compute(openZarr(p).mul(2), openZarr(p).sum());
  assert.is(x.shape.join(), "700,530");
  assert.is(bits(total), bits(await openZarr(p).sum().compute()));
});

test(".npy in C order streams too: reductions, several tasks per row, a narrower dtype on disk", async () => {
  const p = at("a.npy");
  await saveNpy(random.uniform(-1e6, 1e6, [700, 530], { chunks: [128, 96], seed: 9 }), p);
  for (const chunks of [[128, 96], [700, 530], [50, 530], [300, 100]]) {
    await same(`npy sum, chunks ${chunks}`, () => loadNpy(p, { chunks }).sum());
    await same(`npy sum axis 1, chunks ${chunks}`, () => loadNpy(p, { chunks }).sum({ axis: 1 }));
  }
  await same("npy var axis 0", () => loadNpy(p, { chunks: [256, 256] }).var({ axis: 0 }));
  const q = at("i16.npy");
  await saveNpy(random.random([300, 200], { chunks: 100, seed: 10 }).mul(30000).floor(), q, { dtype: ">i2" });
  await same("big-endian int16 .npy", () => loadNpy(q, { chunks: 64 }).sum({ axis: 0 }));
  // a file truncated after it was opened (lazily): the error names it
  const r = at("short.npy");
  await saveNpy(random.random([300, 300], { chunks: 100, seed: 11 }), r);
  const lazy = loadNpy(r, { chunks: 100 }).sum();
  assert.ok(streams(lazy));
  const { truncateSync } = await import("node:fs");
  truncateSync(r, 300 * 300 * 8 - 1000);
  await rejectsCode(lazy.compute(), "FORMAT_ERROR", r);
});

test("a bad chunk met by a streamed task: FORMAT_ERROR naming the file", async () => {
  const p = at("bad.zarr");
  await toZarr(random.random([300, 300], { chunks: 100, seed: 8 }), p, { codec: "none" });
  writeFileSync(join(p, "1.2"), Buffer.alloc(100));
  assert.ok(streams(openZarr(p).sum()));
  await rejectsCode(openZarr(p).sum().compute(), "FORMAT_ERROR", join(p, "1.2"), "100 bytes");
});

test.after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shutdown();
});

test.run();
