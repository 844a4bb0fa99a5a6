// Zarr both ways with the real peers: zarr-python 2.13 and numcodecs 0.11 (/usr/bin/python3) write v2
// arrays of every numeric dtype, C and F order, both separators, every compressor, missing and edge chunks,
// and tessera reads them bit-exactly; tessera writes v2 and zarr-python reads the same bytes; tessera
// writes v3 and zarrita (npm) and tessera read it back (zarr-python 3 is not in Debian 12). Writes are
// atomic per chunk, metadata comes last and only after a successful compute; bad input is a coded error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zarrita from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";
import { openZarr, toZarr, zarrAttributes, random, arange, concatenate, slice } from "../../dist/index.js";
import { rejectsCode, throwsCode } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasZarr = spawnSync(PY, ["-c", "import zarr, numcodecs, numpy"]).status === 0;
const required = process.env.TESSERA_INTEROP === "1";
const dir = mkdtempSync(join(tmpdir(), "tessera-zarr-"));
const at = (...p) => join(dir, ...p);
const py = (code) => {
  const r = spawnSync(PY, ["-c", code], { encoding: "utf8", cwd: dir });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
};
const peer = hasZarr ? test : required ? (name) => test(name, () => assert.unreachable("python3-zarr / python3-numcodecs are missing")) : test.skip;
const sha = (nd) => createHash("sha256").update(Buffer.from(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength)).digest("hex");
const partials = () => readdirSync(dir, { recursive: true }).filter((f) => String(f).includes("tessera-tmp"));

// what tessera reads each disk dtype into (numpy type strings of the compute dtypes' bytes)
const COMPUTE = { f8: "<f8", f4: "<f4", f2: "<f4", i4: "<i4", i2: "<i4", i1: "<i4", u1: "<i4", u2: "<i4", u4: "<f8", i8: "<f8", u8: "<f8", b1: "|u1" };

peer("zarr-python writes every dtype, order, separator and compressor, with missing and edge chunks: tessera reads them bit-exactly", async () => {
  const dtypes = ["<f8", ">f8", "<f4", ">f4", "<f2", "<i4", ">i4", "<i2", ">u2", "|i1", "|u1", "|b1", "<i8", ">u8", "<u4"];
  const compressors = [
    "None", "numcodecs.Blosc('lz4', 5, numcodecs.Blosc.SHUFFLE)", "numcodecs.Blosc('zstd', 3, numcodecs.Blosc.BITSHUFFLE)",
    "numcodecs.Blosc('blosclz', 9, numcodecs.Blosc.NOSHUFFLE)", "numcodecs.Zstd(3)", "numcodecs.GZip(5)", "numcodecs.Zlib(1)", "numcodecs.LZ4()",
    "'default'",
  ];
  // every dtype once with a rotating compressor, order and separator; every compressor in both orders
  const cases = [
    ...dtypes.map((t, i) => ({ t, comp: compressors[i % compressors.length], order: "CF"[i % 2], sep: "./"[(i >> 1) % 2], partial: i % 3 === 0 })),
    ...compressors.flatMap((comp, i) => ["C", "F"].map((order, j) => ({ t: ["<f8", "<i2", ">f4"][(i + j) % 3], comp, order, sep: "./"[j], partial: j === 1 }))),
  ];
  const out = py(`
import zarr, numcodecs, numpy as np, hashlib, json
rng = np.random.default_rng(7)
base = rng.normal(0, 60, size=(37, 23))
res = []
for i, c in enumerate(json.loads(${JSON.stringify(JSON.stringify(cases))})):
    t = np.dtype(c["t"])
    v = base > 0 if t.kind == "b" else (np.clip(base * 1000, np.iinfo(t).min, np.iinfo(t).max).astype(t) if t.kind in "iu" else base.astype(t))
    fill = (np.nan if t.itemsize > 2 else 0.5) if t.kind == "f" else (True if t.kind == "b" else 7)
    kw = {} if c["comp"] == "'default'" else {"compressor": eval(c["comp"])}
    z = zarr.open(f"r{i}.zarr", mode="w", shape=v.shape, chunks=(10, 7), dtype=t, order=c["order"], fill_value=fill, dimension_separator=c["sep"], **kw)
    if c["partial"]:
        z[3:25, 5:20] = v[3:25, 5:20]   # chunks outside this box stay missing
    else:
        z[:] = v
    want = z[:].astype(${JSON.stringify(COMPUTE)}[t.kind + str(t.itemsize)])
    res.append({"hash": hashlib.sha256(want.tobytes()).hexdigest(), "missing": 48 - z.nchunks_initialized})
print(json.dumps(res))
`);
  const want = JSON.parse(out);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    const what = `${c.t} ${c.order} "${c.sep}" ${c.comp}${c.partial ? ` (${want[i].missing} chunks missing)` : ""}`;
    if (c.partial) assert.ok(want[i].missing > 0, what);
    for (const chunks of [undefined, [9, 5]]) {
      const a = openZarr(at(`r${i}.zarr`), chunks ? { chunks } : undefined);
      assert.equal(a.shape, [37, 23]);
      assert.is(sha(await a.compute()), want[i].hash, `${what}, chunks ${chunks ?? "default"}`);
    }
  }
  assert.is(openZarr(at("r0.zarr")).dtype, "float64");
  assert.is(openZarr(at("r4.zarr")).dtype, "float32", "float16 reads as float32");
  assert.is(openZarr(at("r7.zarr")).dtype, "int32", "int16 reads as int32");
  assert.is(openZarr(at("r11.zarr")).dtype, "bool");
  assert.is(openZarr(at("r12.zarr")).dtype, "float64", "int64 reads as float64 (exact)");
});

peer("zarr-python: 0-d, 1-d and 3-d arrays, an empty axis, an array in a group, attributes, and default chunks from small storage chunks", async () => {
  const tempHash = py(`
import zarr, numcodecs, numpy as np, hashlib
zarr.save_array("scalar.zarr", np.array(3.25))
zarr.save_array("one.zarr", np.arange(1000, dtype="<i4") * 3, chunks=(64,), compressor=numcodecs.Zstd(1))
z = zarr.open("three.zarr", mode="w", shape=(5, 6, 7), chunks=(2, 4, 3), dtype="<f4", order="F")
z[:] = np.arange(210, dtype="<f4").reshape(5, 6, 7) / 8
zarr.open("empty.zarr", mode="w", shape=(0, 4), chunks=(5, 2), dtype="<f8")
g = zarr.open_group("g.zarr", mode="w"); g.attrs["title"] = "run 7"
a = g.create_dataset("sub/temp", data=np.linspace(0, 1, 12).reshape(3, 4), chunks=(2, 2)); a.attrs["units"] = "K"
print(hashlib.sha256(a[:].tobytes()).hexdigest())
zarr.open("big.zarr", mode="w", shape=(4000, 3000), chunks=(100, 100), dtype="<f8", fill_value=1.5)  # every chunk missing
`);
  const s = openZarr(at("scalar.zarr"));
  assert.equal(s.shape, []);
  assert.is(await s.compute().then((r) => (typeof r === "number" ? r : r.data[0])), 3.25);
  const one = openZarr(at("one.zarr"), { chunks: 100 });
  assert.is(await one.sum().compute(), 3 * 499500);
  const three = await openZarr(at("three.zarr"), { chunks: [3, 5, 2] }).compute();
  assert.equal(Array.from(three.data), Array.from({ length: 210 }, (_, i) => i / 8));
  const e = openZarr(at("empty.zarr"));
  assert.equal(e.shape, [0, 4]);
  assert.is((await e.compute()).data.length, 0);
  throwsCode(() => openZarr(at("g.zarr")), "FORMAT_ERROR", "group", "path");
  const t = openZarr(at("g.zarr"), { path: "sub/temp" });
  assert.is(sha(await t.compute()), tempHash);
  assert.equal(zarrAttributes(at("g.zarr")), { title: "run 7" });
  assert.equal(zarrAttributes(at("g.zarr"), { path: "sub/temp" }), { units: "K" });
  assert.equal(zarrAttributes(at("one.zarr")), {});
  // 100x100 storage chunks are grown by whole multiples up to about 32 MiB per chunk
  const big = openZarr(at("big.zarr"));
  const c0 = big.chunks.map((c) => c[0]);
  assert.ok(c0.every((c) => c % 100 === 0) && c0[0] * c0[1] * 8 <= 32 * 2 ** 20 && c0[0] * c0[1] * 8 > 8 * 2 ** 20, `chunks ${c0}`);
  assert.is(await big.sum().compute(), 1.5 * 4000 * 3000);
});

peer("int64 beyond 2^53 is DTYPE_OVERFLOW naming the chunk, never rounded", async () => {
  py(`
import zarr, numpy as np
v = np.arange(10, dtype="<i8"); v[7] = 2**60
zarr.save_array("bigint.zarr", v, chunks=(4,))`);
  const e = await rejectsCode(openZarr(at("bigint.zarr")).sum().compute(), "DTYPE_OVERFLOW", "1152921504606846976");
  assert.match(e.message, /bigint\.zarr.1/);
});

peer("tessera writes v2 with every codec and dtype, from every worker: zarr-python reads the same bytes", async () => {
  const x = random.normal(3, 2, [301, 207], { chunks: [64, 50], seed: 21 });
  const mine = sha(await x.compute());
  const codecs = ["none", "gzip", "zstd", "blosc", "zlib", "lz4", { name: "blosc", cname: "zstd", clevel: 3, shuffle: "bitshuffle" }, { name: "gzip", level: 9 }];
  for (let i = 0; i < codecs.length; i++) await toZarr(x, at(`w${i}.zarr`), { codec: codecs[i], workers: 2 });
  const got = JSON.parse(py(`
import zarr, hashlib, json
out = []
for i in range(${codecs.length}):
    z = zarr.open(f"w{i}.zarr", mode="r")
    a = z[:]
    out.append([a.dtype.str, list(a.shape), list(z.chunks), z.compressor.codec_id if z.compressor else None, hashlib.sha256(a.tobytes()).hexdigest()])
print(json.dumps(out))`));
  const ids = [null, "gzip", "zstd", "blosc", "zlib", "lz4", "blosc", "gzip"];
  got.forEach((g, i) => assert.equal(g, ["<f8", [301, 207], [64, 50], ids[i], mine], JSON.stringify(codecs[i])));

  // storage chunks other than the array's, irregular chunks, dtypes on disk, attributes, a 0-d and a bool array
  const tail = () => random.normal(0, 1, [100, 207], { chunks: [100, 50], seed: 4 });
  const ints = arange(60000, { chunks: 7000 }).reshape([200, 300]);
  await toZarr(ints, at("u16.zarr"), { dtype: "uint16", chunks: [64, 128], codec: "blosc", attributes: { source: "arange", n: 60000 } });
  await toZarr(ints, at("be.zarr"), { dtype: ">i4" });
  await toZarr(concatenate([x, tail()], { axis: 0 }), at("cat.zarr"), { codec: "zstd" });
  await toZarr(x.gt(3), at("b.zarr"));
  await toZarr(x.sum(), at("s.zarr"));
  await toZarr(x.astype("float32"), at("f2.zarr"), { dtype: "float16" });
  const r = JSON.parse(py(`
import zarr, numpy as np, json, hashlib
u = zarr.open("u16.zarr", mode="r"); be = zarr.open("be.zarr", mode="r"); cat = zarr.open("cat.zarr", mode="r")
b = zarr.open("b.zarr", mode="r"); s = zarr.open("s.zarr", mode="r"); f2 = zarr.open("f2.zarr", mode="r")
print(json.dumps({"u": [u.dtype.str, list(u.chunks), int(u[:].astype(np.int64).sum()), int(u[199, 299]), dict(u.attrs)],
  "be": [be.dtype.str, bool((be[:] == np.arange(60000).reshape(200, 300)).all())],
  "cat": [list(cat.shape), list(cat.chunks), hashlib.sha256(cat[:].tobytes()).hexdigest()],
  "b": [b.dtype.str, int(b[:].sum())], "s": [list(s.shape), float(s[()])],
  "f2": [f2.dtype.str, hashlib.sha256(f2[:].astype("<f4").tobytes()).hexdigest()]}))`));
  assert.equal(r.u, ["<u2", [64, 128], (60000 * 59999) / 2, 59999, { source: "arange", n: 60000 }]);
  assert.equal(r.be, [">i4", true]);
  const cat = concatenate([x, tail()], { axis: 0 });
  assert.equal(r.cat.slice(0, 2), [[401, 207], [100, 50]], "irregular chunks [64, 64, 64, 64, 45, 100] are stored as their largest block");
  assert.is(r.cat[2], sha(await cat.compute()));
  assert.equal(r.b, ["|b1", (await x.gt(3).astype("int32").sum().compute())]);
  assert.equal(r.s, [[], await x.sum().compute()]);
  assert.equal(r.f2[0], "<f2");
  assert.is(r.f2[1], sha(await openZarr(at("f2.zarr")).compute()), "float16 on disk reads back as numpy rounds it");
  assert.equal(partials(), [], "no temporary file left");
});

test("v3 written by tessera: zarrita and tessera read it back, every codec, big-endian, attributes; v3 by zarrita and by hand (transpose) read by tessera", async () => {
  const x = random.uniform(-5, 5, [130, 90], { chunks: [40, 40], seed: 2 });
  const want = await x.compute();
  for (const codec of ["none", "gzip", "zstd", "blosc"]) {
    const p = at(`v3-${codec}.zarr`);
    await toZarr(x, p, { format: 3, codec, attributes: { codec } });
    const meta = JSON.parse(readFileSync(join(p, "zarr.json"), "utf8"));
    assert.is(meta.zarr_format, 3);
    assert.ok(existsSync(join(p, "c", "3", "2")), "default chunk keys c/i/j");
    const arr = await zarrita.open(new FileSystemStore(p), { kind: "array" });
    assert.equal(arr.attrs, { codec });
    const got = await zarrita.get(arr);
    assert.equal(got.shape, [130, 90]);
    assert.ok(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.data.buffer)), `zarrita reads ${codec}`);
    assert.is(sha(await openZarr(p, { chunks: [33, 17] }).compute()), sha(want), `tessera reads ${codec}`);
    assert.equal(zarrAttributes(p), { codec });
  }
  await toZarr(x.mul(100).astype("int32"), at("v3-be.zarr"), { format: 3, dtype: ">i2" });
  const be = await zarrita.get(await zarrita.open(new FileSystemStore(at("v3-be.zarr")), { kind: "array" }));
  assert.is(be.data.constructor.name, "Int16Array");
  assert.equal(Array.from(be.data), Array.from((await x.mul(100).astype("int32").compute()).data));
  // v3 written by zarrita: a transpose codec, big-endian int16, zstd, a missing row of chunks
  const zw = at("zarrita.zarr");
  const arr = await zarrita.create(zarrita.root(new FileSystemStore(zw)), {
    shape: [7, 5], chunkShape: [3, 2], dtype: "int16", fillValue: -3,
    codecs: [{ name: "transpose", configuration: { order: [1, 0] } }, { name: "bytes", configuration: { endian: "big" } }, { name: "zstd", configuration: { level: 3, checksum: false } }],
  });
  const vals = Int16Array.from({ length: 30 }, (_, i) => i * 7 - 50);
  await zarrita.set(arr, [zarrita.slice(0, 6), null], { data: vals, shape: [6, 5], stride: [5, 1] });
  assert.not.ok(existsSync(join(zw, "c", "2")), "the last row of chunks is never written");
  assert.equal(Array.from((await openZarr(zw, { chunks: [4, 3] }).compute()).data), [...vals, -3, -3, -3, -3, -3]);
  // a v3 array with a transpose codec and the v2 key encoding, written by hand as the spec says
  const p = at("v3-t.zarr");
  mkdirSync(p);
  const doc = {
    zarr_format: 3, node_type: "array", shape: [3, 5], data_type: "uint16", fill_value: 9,
    chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 4] } }, chunk_key_encoding: { name: "v2", configuration: { separator: "." } },
    codecs: [{ name: "transpose", configuration: { order: [1, 0] } }, { name: "bytes", configuration: { endian: "big" } }], attributes: {},
  };
  writeFileSync(join(p, "zarr.json"), JSON.stringify(doc));
  // chunk 0.0 holds rows 0-1, cols 0-3, stored transposed: (col, row), big-endian uint16
  const c00 = Buffer.alloc(16);
  for (let c = 0; c < 4; c++) for (let r = 0; r < 2; r++) c00.writeUInt16BE(r * 5 + c, (c * 2 + r) * 2);
  writeFileSync(join(p, "0.0"), c00);
  const t = await openZarr(p).compute();
  assert.equal(Array.from(t.data), [0, 1, 2, 3, 9, 5, 6, 7, 8, 9, 9, 9, 9, 9, 9]);
});

test("tasks over several storage chunks read bit-exactly: rows read straight into place (more than one readv), zstd, missing and edge chunks", async () => {
  // 1500-row storage chunks of 3 columns, read by tasks 10 columns wide: 1500 strided rows per chunk
  const x = random.uniform(-1, 1, [3001, 10], { chunks: [1500, 3], seed: 5 });
  const want = (await x.compute()).data;
  for (const codec of ["none", "zstd"]) {
    const p = at(`multi-${codec}.zarr`);
    await toZarr(x, p, { codec });
    rmSync(join(p, "1.2")); // a missing chunk reads as the fill value
    const expect = Float64Array.from(want, (v, i) => (Math.floor(i / 10) >= 1500 && Math.floor(i / 10) < 3000 && i % 10 >= 6 && i % 10 < 9 ? 0 : v));
    // (tasks of the storage chunks: zstd decodes the full ones in place, the edge ones apart)
    for (const chunks of [[3001, 10], [2000, 7], [1000, 6], [3001, 1], [1500, 3], [3000, 3]]) {
      const got = (await openZarr(p, { chunks }).compute()).data;
      assert.ok(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expect.buffer)), `${codec}, tasks ${chunks}`);
    }
  }
  // a short chunk file among them is a FORMAT_ERROR naming it
  const p = at("multi-none.zarr");
  writeFileSync(join(p, "0.1"), Buffer.alloc(100));
  await rejectsCode(openZarr(p, { chunks: [3001, 10] }).compute(), "FORMAT_ERROR", join(p, "0.1"), "100 bytes");
});

test("toZarr refuses an existing array, and a failed or refused write leaves no metadata", async () => {
  const p = at("keep.zarr");
  await toZarr(arange(10, { chunks: 3 }), p);
  const before = readFileSync(join(p, ".zarray"));
  await rejectsCode(toZarr(arange(10), p), "ALREADY_EXISTS", "keep.zarr");
  writeFileSync(at("afile"), "x");
  await rejectsCode(toZarr(arange(10), at("afile"), { overwrite: true }), "ALREADY_EXISTS", "afile", "file");
  const boom = (k) => arange(10, { chunks: 3 }).astype("float64").mapBlocks((b, info) => {
    if (info.blockIndex[0] === info.args[0]) throw new Error("block boom");
    return b;
  }, { args: [k] });
  // a fresh path: no metadata at all
  await rejectsCode(toZarr(boom(2), at("fresh.zarr")), "TASK_FAILED", "block boom");
  assert.not.ok(existsSync(at("fresh.zarr", ".zarray")), "a failed compute writes no metadata");
  throwsCode(() => openZarr(at("fresh.zarr")), "FORMAT_ERROR", "no .zarray");
  // out of range for the dtype asked: DTYPE_OVERFLOW naming the chunk, no metadata
  await rejectsCode(toZarr(arange(1000, { chunks: 300 }), at("u8.zarr"), { dtype: "uint8" }), "DTYPE_OVERFLOW", "does not fit uint8", "u8.zarr");
  assert.not.ok(existsSync(at("u8.zarr", ".zarray")));
  // the same layout: chunks are replaced one by one, the old metadata stays valid throughout
  await rejectsCode(toZarr(boom(1), p, { overwrite: true, dtype: "int32" }), "TASK_FAILED", "block boom");
  assert.ok(readFileSync(join(p, ".zarray")).equals(before), "old metadata kept: every chunk is old or new");
  const mixed = Array.from((await openZarr(p).compute()).data);
  assert.equal(mixed, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "old and new chunks hold the same values here");
  // another layout: the old array is removed before any new chunk, so a failure leaves no array at all
  await rejectsCode(toZarr(boom(0), p, { overwrite: true, chunks: 5 }), "TASK_FAILED", "block boom");
  assert.not.ok(existsSync(join(p, ".zarray")), "no metadata describing chunks it did not write");
  const left = readdirSync(p).filter((f) => /^\d$/.test(f));
  assert.ok(!left.includes("2") && !left.includes("3") && !left.includes("0"), `old chunks removed, the failed one not written: ${left}`);
  // and a successful overwrite of another layout and format replaces it whole
  await toZarr(arange(7, { chunks: 2 }).mul(2), p, { overwrite: true, format: 3, codec: "zstd" });
  assert.not.ok(existsSync(join(p, ".zarray")));
  assert.equal(Array.from((await openZarr(p).compute()).data), [0, 2, 4, 6, 8, 10, 12]);
  await toZarr(arange(7, { chunks: 2 }), p, { overwrite: true, format: 3, codec: "zstd" });
  assert.equal(Array.from((await openZarr(p).compute()).data), [0, 1, 2, 3, 4, 5, 6], "same layout, in place");
  // bad options: nothing made
  await rejectsCode(toZarr(arange(3), at("nope1.zarr"), { codec: "bz2" }), "INVALID_ARGUMENT", "bz2");
  await rejectsCode(toZarr(arange(3), at("nope2.zarr"), { format: 4 }), "INVALID_ARGUMENT", "format");
  await rejectsCode(toZarr(arange(3), at("nope3.zarr"), { codec: "lz4", format: 3 }), "INVALID_ARGUMENT", "lz4");
  await rejectsCode(toZarr(arange(3), at("nope4.zarr"), { chunks: [[1, 2]] }), "INVALID_CHUNKS", "regular");
  await rejectsCode(toZarr(arange(3), at("nope5.zarr"), { attributes: { f: () => 1 } }), "INVALID_ARGUMENT", "attributes");
  await rejectsCode(toZarr(arange(3), at("nope6.zarr"), { dtype: "complex128" }), "INVALID_DTYPE", "complex128");
  await rejectsCode(toZarr(openZarr(p).add(1), p, { overwrite: true }), "INVALID_ARGUMENT", "while computing from it");
  for (let i = 1; i <= 6; i++) assert.not.ok(existsSync(at(`nope${i}.zarr`)));
  assert.equal(partials(), []);
});

test("bad input: a missing path, corrupt JSON, a truncated chunk, a chunk of the wrong size, an unknown codec, filters, complex", async () => {
  throwsCode(() => openZarr(at("missing.zarr")), "IO_ERROR", "missing.zarr");
  const mk = (name, zarray, files = {}) => {
    const p = at(name);
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, ".zarray"), typeof zarray === "string" ? zarray : JSON.stringify({ zarr_format: 2, shape: [4], chunks: [2], dtype: "<f8", compressor: null, fill_value: 0, order: "C", filters: null, ...zarray }));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(p, k), v);
    return p;
  };
  throwsCode(() => openZarr(mk("corrupt.zarr", '{"zarr_format": 2, "shape": [4')), "FORMAT_ERROR", "corrupt.zarr", "JSON");
  const f8 = (...v) => Buffer.from(Float64Array.from(v).buffer);
  const short = mk("short.zarr", {}, { 0: f8(1, 2), 1: f8(3).subarray(0, 5) });
  await rejectsCode(openZarr(short).compute(), "FORMAT_ERROR", join(short, "1"), "truncated");
  // a slice reads only the chunks it meets: the damaged chunk 1 is never read (dask culls likewise)
  // (on the storage chunks: by default small ones are grouped into one task)
  const byChunk = openZarr(short, { chunks: 2 });
  assert.is(await byChunk.get(slice(0, 2)).sum().compute(), 3);
  assert.is(await byChunk.get(slice(-3, -2)).sum().compute(), 2);
  await rejectsCode(byChunk.get(slice(1, 3)).sum().compute(), "FORMAT_ERROR", join(short, "1"));
  const long = mk("long.zarr", {}, { 0: f8(1, 2, 3) });
  await rejectsCode(openZarr(long).compute(), "FORMAT_ERROR", join(long, "0"), "24 bytes", "16");
  const blosc = mk("blosc.zarr", { compressor: { id: "blosc", cname: "lz4", clevel: 5, shuffle: 1, blocksize: 0 } }, { 0: Buffer.from([2, 1, 33, 8, 16, 0, 0, 0, 16, 0, 0, 0, 40, 0, 0, 0, 1, 2, 3]) });
  await rejectsCode(openZarr(blosc).compute(), "FORMAT_ERROR", join(blosc, "0"), "truncated");
  const gz = mk("gz.zarr", { compressor: { id: "gzip", level: 1 } }, { 0: Buffer.from("not gzip at all") });
  await rejectsCode(openZarr(gz).compute(), "FORMAT_ERROR", join(gz, "0"), "gzip");
  const zs = mk("zs.zarr", { compressor: { id: "zstd", level: 1 } }, { 0: Buffer.from("not zstd at all") });
  await rejectsCode(openZarr(zs).compute(), "FORMAT_ERROR", join(zs, "0"), "zstd");
  throwsCode(() => openZarr(mk("bz2.zarr", { compressor: { id: "bz2", level: 1 } })), "FORMAT_ERROR", "bz2.zarr", "bz2");
  throwsCode(() => openZarr(mk("filt.zarr", { filters: [{ id: "delta", dtype: "<f8" }] })), "FORMAT_ERROR", "filt.zarr", "delta");
  throwsCode(() => openZarr(mk("cplx.zarr", { dtype: "<c16" })), "INVALID_DTYPE", "cplx.zarr", "<c16");
  throwsCode(() => openZarr(mk("str.zarr", { dtype: "<U8" })), "INVALID_DTYPE", "<U8");
  throwsCode(() => openZarr(mk("shape.zarr", { chunks: [2, 2] })), "FORMAT_ERROR", "shape.zarr", "chunks");
  const v3 = at("v3bad.zarr");
  mkdirSync(v3);
  writeFileSync(join(v3, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "array", shape: [4], data_type: "float64", chunk_grid: { name: "regular", configuration: { chunk_shape: [2] } }, fill_value: 0, codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "lzma" }] }));
  throwsCode(() => openZarr(v3), "FORMAT_ERROR", "v3bad.zarr", "lzma");
  const listing = (p) => readdirSync(p, { recursive: true }).sort().join(",");
  assert.is(listing(short), ".zarray,0,1", "reading writes nothing");
  assert.equal(partials(), []);
  throwsCode(() => openZarr(""), "INVALID_ARGUMENT");
  throwsCode(() => openZarr(short, { bogus: 1 }), "INVALID_ARGUMENT", "bogus");
});

test("under 2 ranks, toZarr writes every chunk once, each from the rank (and worker thread) that computed it", async () => {
  const run = fileURLToPath(new URL("../../dist/run.js", import.meta.url));
  const script = fileURLToPath(new URL("./fixtures/zarr-ranks.mjs", import.meta.url));
  const trace = fileURLToPath(new URL("./fixtures/trace-renames.mjs", import.meta.url));
  const log = at("renames.log");
  const out = at("ranks.zarr");
  const r = await new Promise((resolve) => {
    const child = spawn(process.execPath, [run, "--np", "2", script, out], {
      env: { ...process.env, TESSERA_RENAME_LOG: log, NODE_OPTIONS: `--import=${trace}` }, stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => (clearTimeout(timer), resolve({ code, stdout, stderr })));
  });
  assert.is(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.same, [true, true], "both ranks read back exactly what was written");
  const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" "));
  const chunks = lines.filter(([, , f]) => !f.endsWith(".zarray"));
  const files = chunks.map(([, , f]) => f.slice(out.length + 1)).sort();
  const all = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) all.push(`${i}.${j}`);
  assert.equal(files, all.sort(), "every chunk written exactly once");
  const pids = [...new Set(chunks.map(([pid]) => pid))];
  assert.is(pids.length, 2, "both ranks wrote chunks");
  assert.ok(chunks.every(([, tid]) => tid !== "0"), "chunks are written by worker threads");
  const meta = lines.filter(([, , f]) => f.endsWith(".zarray"));
  assert.is(meta.length, 1, "rank 0 writes the metadata once");
  assert.is(meta[0][1], "0", "from its main thread, after the chunks");
  assert.ok(lines.indexOf(meta[0]) === lines.length - 1, "metadata last");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
