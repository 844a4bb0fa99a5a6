// HDF5 with the real h5py (/usr/bin/python3): h5py writes datasets of every numeric type, both byte
// orders, contiguous and chunked (gzip, shuffle, szip, scale-offset, fletcher32, lzf through
// h5wasm-plugins), with edge chunks, and tessera reads them bit-exactly in its workers, with chunks that
// line up with the storage chunks and chunks that do not. Bad input: coded errors naming the file and
// the dataset, libhdf5's reason in the message (not on stderr).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openHdf5, loadNpy, slice, compute } from "../../dist/index.js";
import { rejectsCode } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasH5py = spawnSync(PY, ["-c", "import h5py, numpy"]).status === 0;
const required = process.env.TESSERA_INTEROP === "1";
const dir = mkdtempSync(join(tmpdir(), "tessera-h5-"));
const py = (code) => {
  const r = spawnSync(PY, ["-c", code], { encoding: "utf8", cwd: dir });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
};
const peer = hasH5py ? test : required ? () => test("h5py is installed (TESSERA_INTEROP=1)", () => assert.unreachable("python3-h5py is missing")) : test.skip;
const bytesOf = (nd) => Buffer.from(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);
const f = (name) => join(dir, name);

const TYPES = ["|i1", "|u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8", "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "bool"];
const LAYOUTS = {
  contiguous: "{}",
  chunked: "dict(chunks=(7, 5))",
  gzip: "dict(chunks=(8, 6), compression='gzip', shuffle=True)",
};

if (hasH5py) {
  py(`
import h5py, numpy as np
rng = np.random.default_rng(7)
base = rng.normal(0, 40, size=(37, 23))
layouts = {${Object.entries(LAYOUTS).map(([k, v]) => `"${k}": ${v}`).join(", ")}}
with h5py.File("types.h5", "w") as f:
    for i, t in enumerate(${JSON.stringify(TYPES)}):
        dt = np.dtype(t)
        if dt.kind == "b": v = base > 0
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            v = np.clip(base * (2.0 ** (8 * dt.itemsize - 8)), max(info.min, 1 - 2**53), min(info.max, 2**53 - 1)).astype(dt)
        else: v = base.astype(dt)
        for name, kw in layouts.items():
            f.create_dataset(f"{name}/t{i}", data=v, **kw)
        np.save(f"want{i}.npy", v.astype(np.float64))
    a = np.arange(1000 * 800, dtype="<f8").reshape(1000, 800)
    f.create_dataset("filters/szip", data=a.astype("<i4"), chunks=(100, 100), compression="szip")
    f.create_dataset("filters/scaleoffset", data=a.astype("<i4"), chunks=(100, 100), scaleoffset=0)
    f.create_dataset("filters/fletcher32", data=a, chunks=(100, 100), fletcher32=True)
    f.create_dataset("filters/lzf", data=a, chunks=(100, 100), compression="lzf")
    f.create_dataset("big/chunked", data=np.zeros((3000, 3000)), chunks=(100, 100))
    f.create_dataset("big/contiguous", data=np.zeros((3000, 3000)))
    f["misc/scalar"] = 2.5
    f["misc/empty"] = np.zeros((0, 4))
    f["misc/enum16"] = np.array([1, 3, 2], dtype=h5py.enum_dtype({"a": 1, "b": 2, "c": 3}, basetype="<i2"))
    v = np.arange(10, dtype="<i8"); v[7] = 2**60
    f.create_dataset("misc/huge", data=v, chunks=(3,))
    f["bad/fixed_string"] = np.array([b"ab", b"cd"])
    f["bad/vlen_string"] = ["x", "yy"]
    f["bad/compound"] = np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")])
    f["bad/complex"] = np.zeros(3, dtype="c16")
    f["bad/vlen_int"] = np.array([np.arange(2), np.arange(3)], dtype=h5py.vlen_dtype("i4"))
    f.create_dataset("bad/empty_space", data=h5py.Empty("f8"))
    f.create_dataset("bad/unknown_filter", shape=(10,), dtype="<f8", chunks=(5,), compression=32099, allow_unknown_filter=True)
    f.create_dataset("corrupt/gz", data=a, chunks=(100, 100), compression="gzip")
`);
}

peer("h5py writes every numeric type, both byte orders, contiguous, chunked and gzip: tessera reads them exactly", async () => {
  for (let i = 0; i < TYPES.length; i++) {
    const want = await loadNpy(f(`want${i}.npy`)).compute();
    const arrays = [];
    const what = [];
    for (const layout of Object.keys(LAYOUTS)) {
      // the dataset's own chunks, chunks that cut storage chunks, and aligned multiples of them
      for (const chunks of [undefined, [10, 7], [16, 12]]) {
        const a = await openHdf5(f("types.h5"), `${layout}/t${i}`, chunks ? { chunks } : undefined);
        assert.equal(a.shape, [37, 23]);
        arrays.push(a.astype("float64"));
        what.push(`${TYPES[i]} ${layout} chunks ${JSON.stringify(chunks)}`);
      }
    }
    const got = await compute(...arrays);
    got.forEach((g, k) => assert.ok(bytesOf(g).equals(bytesOf(want)), what[k]));
  }
  const dt = async (i) => (await openHdf5(f("types.h5"), `chunked/t${i}`)).dtype;
  assert.equal(await Promise.all([0, 3, 6, 9, 10, 13, 14, 16, 19, 20].map(dt)), ["int32", "int32", "int32", "float64", "float64", "float64", "float32", "float32", "float64", "bool"]);
});

peer("the built-in filters (szip, scale-offset, fletcher32) and lzf from h5wasm-plugins", async () => {
  const want = 1000 * 800 * (1000 * 800 - 1) / 2;
  for (const name of ["szip", "scaleoffset", "fletcher32", "lzf"]) {
    const a = await openHdf5(f("types.h5"), `/filters/${name}`, { chunks: [300, 300] });
    assert.is(await a.astype("float64").sum().compute(), want, name);
    assert.is((await a.get(999, slice(790, 800)).astype("float64").compute()).data[9], 1000 * 800 - 1, name);
  }
});

peer("default chunks: multiples of the storage chunks near 32 MiB, or auto for a contiguous dataset", async () => {
  const c = await openHdf5(f("types.h5"), "big/chunked");
  assert.equal(c.chunks.map((b) => b[0]), [1600, 1600], "100x100 storage chunks grown to 1600x1600 (20 MB)");
  assert.equal(c.chunks.map((b) => b.reduce((x, y) => x + y)), [3000, 3000]);
  const g = await openHdf5(f("types.h5"), "gzip/t0");
  assert.equal(g.chunks, [[37], [23]], "a small dataset is one chunk");
  const k = await openHdf5(f("types.h5"), "big/contiguous");
  assert.equal(k.chunks.map((b) => b[0]), [2048, 2048]);
  assert.is(await c.sum().compute(), 0);
});

peer("0-d, empty and enum datasets; int64 beyond 2^53 is DTYPE_OVERFLOW naming the region", async () => {
  const s = await openHdf5(f("types.h5"), "misc/scalar");
  assert.equal(s.shape, []);
  assert.is(await s.sum().compute(), 2.5);
  const e = await openHdf5(f("types.h5"), "misc/empty");
  assert.equal(e.shape, [0, 4]);
  assert.is(await e.sum().compute(), 0);
  const en = await openHdf5(f("types.h5"), "misc/enum16");
  assert.is(en.dtype, "int32");
  assert.equal(Array.from((await en.compute()).data), [1, 3, 2]);
  const h = await openHdf5(f("types.h5"), "misc/huge", { chunks: 3 });
  const err = await rejectsCode(h.sum().compute(), "DTYPE_OVERFLOW", "1152921504606846976", "types.h5", "misc/huge", "[6]");
  assert.match(err.message, /beyond 2\^53/);
});

peer("unsupported types are INVALID_DTYPE naming the dataset and the type; an unknown filter is FORMAT_ERROR", async () => {
  const cases = { fixed_string: "string", vlen_string: "variable-length string", compound: "compound of a, b", complex: "complex", vlen_int: "variable-length" };
  for (const [name, what] of Object.entries(cases)) await rejectsCode(openHdf5(f("types.h5"), `bad/${name}`), "INVALID_DTYPE", "types.h5", `/bad/${name}`, what);
  await rejectsCode(openHdf5(f("types.h5"), "bad/empty_space"), "INVALID_SHAPE", "null dataspace");
  await rejectsCode(openHdf5(f("types.h5"), "bad/unknown_filter"), "FORMAT_ERROR", "/bad/unknown_filter", "32099", "no plugin");
});

test("bad input: a missing file, a missing dataset, a group, not HDF5, a truncated file, bad arguments", async () => {
  await rejectsCode(openHdf5(f("nope.h5"), "x"), "IO_ERROR", "nope.h5", "no such file");
  await rejectsCode(openHdf5(dir, "x"), "IO_ERROR", "is not a file");
  writeFileSync(f("junk.h5"), "not hdf5 at all, just some text that is long enough".repeat(20));
  await rejectsCode(openHdf5(f("junk.h5"), "x"), "FORMAT_ERROR", "junk.h5", "no HDF5 signature");
  await rejectsCode(openHdf5(f("nope.h5"), ""), "INVALID_ARGUMENT");
  await rejectsCode(openHdf5(f("nope.h5"), "x", { chunk: 3 }), "INVALID_ARGUMENT", "chunk");
  if (!hasH5py) return;
  await rejectsCode(openHdf5(f("types.h5"), "chunked/t99"), "NOT_FOUND", "types.h5", "/chunked/t99", "does not exist", "chunked/t0");
  await rejectsCode(openHdf5(f("types.h5"), "chunked"), "NOT_FOUND", "is a group");
  const whole = readFileSync(f("types.h5"));
  writeFileSync(f("short.h5"), whole.subarray(0, whole.length >> 1));
  await rejectsCode(openHdf5(f("short.h5"), "chunked/t0"), "FORMAT_ERROR", "short.h5", "truncated");
});

peer("a damaged storage chunk fails the read with libhdf5's reason; a file changed since it was opened is refused", async () => {
  const [offset] = py(`
import h5py
with h5py.File("types.h5") as f:
    i = f["corrupt/gz"].id.get_chunk_info(0)
print(i.byte_offset, i.size)`).split(" ").map(Number);
  const whole = readFileSync(f("types.h5"));
  whole.fill(0x55, offset + 10, offset + 60);
  writeFileSync(f("damaged.h5"), whole);
  const a = await openHdf5(f("damaged.h5"), "corrupt/gz", { chunks: [100, 100] });
  assert.is(await (await openHdf5(f("damaged.h5"), "filters/lzf")).sum().compute(), 1000 * 800 * (1000 * 800 - 1) / 2, "other datasets read");
  await rejectsCode(a.sum().compute(), "FORMAT_ERROR", "damaged.h5", "/corrupt/gz", "[0, 0]", "filter");
  // appended to after openHdf5: refused, not read stale
  const b = await openHdf5(f("damaged.h5"), "gzip/t0");
  appendFileSync(f("damaged.h5"), Buffer.alloc(16));
  await rejectsCode(b.sum().compute(), "IO_ERROR", "damaged.h5", "changed since it was opened");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
