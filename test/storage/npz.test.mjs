// .npz with the real numpy (/usr/bin/python3): np.savez (stored members, read by byte ranges per
// chunk) and np.savez_compressed (deflated members, inflated forward per worker) of every numeric dtype,
// both byte orders, C and Fortran order, read exactly with chunks of any shape; zip64 records; bad
// input: coded errors naming the file and the member.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { deflateRawSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNpz, loadNpy, compute } from "../../dist/index.js";
import { InflateCursor } from "../../dist/storage/inflate-cursor.js";
import { cursorKeeping, readNpzRegion } from "../../dist/storage/npz.js";
import { rejectsCode, throwsCode } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const required = process.env.TESSERA_INTEROP === "1";
const dir = mkdtempSync(join(tmpdir(), "tessera-npz-"));
const py = (code) => {
  const r = spawnSync(PY, ["-c", code], { encoding: "utf8", cwd: dir });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
};
const peer = hasNumpy ? test : required ? () => test("numpy is installed (TESSERA_INTEROP=1)", () => assert.unreachable("python3-numpy is missing")) : test.skip;
const bytesOf = (nd) => Buffer.from(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);
const f = (name) => join(dir, name);
const TYPES = ["<f8", ">f8", "<f4", ">f4", "<f2", ">f2", "<i4", ">i4", "<i2", ">u2", "|i1", "|u1", "|b1", "<i8", ">u8", "<u4"];

if (hasNumpy) {
  py(`
import numpy as np, zipfile
rng = np.random.default_rng(11)
base = rng.normal(0, 40, size=(37, 23))
arrays = {}
for i, t in enumerate(${JSON.stringify(TYPES)}):
    kind = np.dtype(t).kind
    v = base > 0 if kind == "b" else (np.clip(base, np.iinfo(t).min, np.iinfo(t).max).astype(t) if kind in "iu" else base.astype(t))
    arrays[f"c{i}"] = v
    arrays[f"f{i}"] = np.asfortranarray(v)
    np.save(f"want{i}.npy", v.astype(np.float64))
arrays["scalar"] = np.float64(2.5)
arrays["empty"] = np.zeros((0, 3))
arrays["wide"] = rng.normal(size=(600, 700))           # 3.4 MB: many inflate slices
arrays["fwide"] = np.asfortranarray(arrays["wide"])
arrays["zeros"] = np.zeros((2000, 3000))               # 48 MB inflating from 47 kB
np.save("wide.npy", arrays["wide"])
np.savez("stored.npz", **arrays)
np.savez_compressed("deflated.npz", **arrays)
np.savez("positional.npz", np.arange(5), np.ones(3))
# zip64 records everywhere (as past 4 GiB): numpy always writes zip64 local headers, the central ones here too
zipfile.ZIP64_LIMIT = 64
zipfile.ZIP_FILECOUNT_LIMIT = 1
np.savez("zip64.npz", a=arrays["c0"], b=arrays["f7"])
np.savez_compressed("zip64c.npz", a=arrays["c0"], b=arrays["f7"])
`);
}

peer("np.savez and np.savez_compressed of every numeric dtype, both byte orders, C and F order: read exactly", async () => {
  for (const file of ["stored.npz", "deflated.npz"]) {
    const z = loadNpz(f(file));
    for (let i = 0; i < TYPES.length; i++) {
      const want = await loadNpy(f(`want${i}.npy`)).compute();
      const arrays = [];
      for (const order of ["c", "f"]) {
        arrays.push(z[`${order}${i}`], loadNpz(f(file), `${order}${i}`, { chunks: [10, 7] }), loadNpz(f(file), `${order}${i}.npy`, { chunks: [37, 5] }));
      }
      const got = await compute(...arrays.map((a) => a.astype("float64")));
      got.forEach((g, k) => assert.ok(bytesOf(g).equals(bytesOf(want)), `${file} ${TYPES[i]} case ${k}`));
    }
    assert.is(z.c0.dtype, "float64");
    assert.is(z.c4.dtype, "float32", "float16 reads as float32");
    assert.is(z.c6.dtype, "int32");
    assert.is(z.c12.dtype, "bool");
    assert.is(z.c13.dtype, "float64", "int64 reads as float64 (exact)");
    assert.equal(z.scalar.shape, []);
    assert.is(await z.scalar.sum().compute(), 2.5);
    assert.equal(z.empty.shape, [0, 3]);
    assert.is(await z.empty.sum().compute(), 0);
  }
});

peer("members larger than an inflate slice, read by many chunks on two workers, in order and across rows", async () => {
  const want = bytesOf(await loadNpy(f("wide.npy")).compute());
  const d = loadNpz(f("deflated.npz"));
  assert.equal(d.wide.chunks, [[600], [700]], "deflated: whole rows, about 32 MiB");
  assert.equal(d.zeros.chunks, [[1000, 1000], [3000]], "even blocks of whole rows");
  const s = loadNpz(f("stored.npz"));
  const cases = [
    d.wide,
    loadNpz(f("deflated.npz"), "wide", { chunks: [50, 700] }), // row blocks: one pass per worker
    loadNpz(f("deflated.npz"), "wide", { chunks: [64, 100] }), // across rows: starts over
    loadNpz(f("deflated.npz"), "fwide", { chunks: [64, 100] }),
    loadNpz(f("stored.npz"), "wide", { chunks: [64, 100] }),
    s.fwide,
  ];
  const got = await compute(...cases, { workers: 2 });
  got.forEach((g, k) => assert.ok(bytesOf(g).equals(want), `case ${k}`));
  assert.is(await d.zeros.sum().compute(), 0);
  assert.is(await loadNpz(f("deflated.npz"), "zeros", { chunks: [300, 3000] }).max().compute(), 0);
});

peer("the object of arrays: archive order, lazy members, positional names; zip64 central records", async () => {
  const z = loadNpz(f("stored.npz"));
  assert.equal(Object.keys(z).slice(0, 3), ["c0", "f0", "c1"]);
  assert.equal(Object.keys(z).slice(-5), ["scalar", "empty", "wide", "fwide", "zeros"]);
  assert.is(z.c0, z.c0, "made once");
  const p = loadNpz(f("positional.npz"));
  assert.equal(Object.keys(p), ["arr_0", "arr_1"]);
  assert.equal(Array.from((await p.arr_0.compute()).data), [0, 1, 2, 3, 4]);
  for (const file of ["zip64.npz", "zip64c.npz"]) {
    const x = loadNpz(f(file));
    assert.ok(bytesOf(await x.a.compute()).equals(bytesOf(await loadNpz(f("stored.npz"), "c0").compute())), file);
    assert.ok(bytesOf(await x.b.compute()).equals(bytesOf(await loadNpz(f("stored.npz"), "f7").compute())), file);
  }
});

peer("bad members: object and structured dtypes, another compression method, damaged deflate data", async () => {
  py(`
import numpy as np, zipfile, io
np.savez("objects.npz", ok=np.arange(3), obj=np.array([{"a": 1}, None], dtype=object), rec=np.zeros(2, dtype=[("a", "<i4")]))
buf = io.BytesIO(); np.save(buf, np.arange(10.0))
with zipfile.ZipFile("bz2.npz", "w", compression=zipfile.ZIP_BZIP2) as zf: zf.writestr("x.npy", buf.getvalue())
np.savez_compressed("damage.npz", x=np.random.default_rng(1).normal(size=(400, 300)))
`);
  const o = loadNpz(f("objects.npz"));
  assert.equal(Array.from((await o.ok.compute()).data), [0, 1, 2], "good members of a file with bad ones read");
  throwsCode(() => o.obj, "INVALID_DTYPE", "objects.npz", "obj.npy", "|O");
  throwsCode(() => o.rec, "INVALID_DTYPE", "objects.npz", "rec.npy", "structured");
  throwsCode(() => loadNpz(f("bz2.npz"), "x"), "FORMAT_ERROR", "bz2.npz", "x.npy", "bzip2");
  const whole = readFileSync(f("damage.npz"));
  whole.fill(0xaa, 20000, 20400); // inside the member's deflate stream, past its header
  writeFileSync(f("damaged.npz"), whole);
  const x = loadNpz(f("damaged.npz"), "x", { chunks: [100, 300] });
  await rejectsCode(x.sum().compute(), "FORMAT_ERROR", "damaged.npz", "x.npy");
  // appended to after loadNpz: refused, not read stale
  const y = loadNpz(f("damage.npz"), "x");
  appendFileSync(f("damage.npz"), Buffer.alloc(8));
  await rejectsCode(y.sum().compute(), "IO_ERROR", "damage.npz", "changed since it was opened");
});

test("the inflate cursor serves any byte range: forward, overlapping, backward (starting over), past the end refused", async () => {
  const raw = Buffer.alloc(3 << 20);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 13 & (i % 7 ? 0xff : 0x0f);
  const comp = deflateRawSync(raw);
  const pre = Buffer.alloc(100, 1);
  writeFileSync(f("raw.deflate"), Buffer.concat([pre, comp]));
  const fd = openSync(f("raw.deflate"), "r");
  try {
    const c = new InflateCursor(pre.length, comp.length, "raw.deflate");
    for (const [pos, n] of [[0, 10], [5, 100], [1 << 20, 1 << 20], [(1 << 20) + 7, 300000], [3, 5], [(3 << 20) - 9, 9], [2 << 20, 1]]) {
      const out = Buffer.alloc(n);
      await c.read(fd, pos, n, out);
      assert.ok(out.equals(raw.subarray(pos, pos + n)), `[${pos}, ${pos + n})`);
    }
    await rejectsCode(c.read(fd, (3 << 20) - 4, 8, Buffer.alloc(8)), "FORMAT_ERROR", "fewer than");
    c.close();
  } finally {
    closeSync(fd);
  }
});

peer("a kept inflater is not dropped while a read uses it, and reads of one member take turns", async () => {
  const src = loadNpz(f("deflated.npz"), "wide").node.source;
  assert.is(src.format, "npz");
  const want = bytesOf(await loadNpy(f("wide.npy")).compute());
  const keep = cursorKeeping.ms;
  cursorKeeping.ms = 0; // an idle inflater is dropped at once: a read in progress must keep its own
  try {
    const whole = new Float64Array(600 * 700);
    const top = new Float64Array(300 * 700);
    const bottom = new Float64Array(300 * 700);
    const reads = Promise.all([readNpzRegion(src, [300, 0], [300, 700], bottom), readNpzRegion(src, [0, 0], [300, 700], top), readNpzRegion(src, [0, 0], [600, 700], whole)]);
    let timer;
    const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the reads never finished")), 20000)));
    await Promise.race([reads, late]).finally(() => clearTimeout(timer));
    assert.ok(Buffer.from(whole.buffer).equals(want));
    assert.ok(Buffer.concat([Buffer.from(top.buffer), Buffer.from(bottom.buffer)]).equals(want));
  } finally {
    cursorKeeping.ms = keep;
  }
});

test("bad files: missing, not a zip, truncated, a missing member, bad arguments", () => {
  throwsCode(() => loadNpz(f("nope.npz")), "IO_ERROR", "nope.npz");
  writeFileSync(f("junk.npz"), "not a zip file, only text ".repeat(10));
  throwsCode(() => loadNpz(f("junk.npz")), "FORMAT_ERROR", "junk.npz", "end-of-central-directory");
  writeFileSync(f("tiny.npz"), "PK");
  throwsCode(() => loadNpz(f("tiny.npz")), "FORMAT_ERROR", "tiny.npz");
  throwsCode(() => loadNpz(123), "INVALID_ARGUMENT");
  throwsCode(() => loadNpz(f("junk.npz"), { chunk: 3 }), "INVALID_ARGUMENT", "chunk");
  if (!hasNumpy) return;
  const whole = readFileSync(f("stored.npz"));
  writeFileSync(f("short.npz"), whole.subarray(0, whole.length - 5000));
  throwsCode(() => loadNpz(f("short.npz")), "FORMAT_ERROR", "short.npz");
  writeFileSync(f("cut.npz"), Buffer.concat([whole.subarray(0, 1000), whole.subarray(whole.length - 4000)]));
  throwsCode(() => loadNpz(f("cut.npz")), "FORMAT_ERROR", "cut.npz");
  throwsCode(() => loadNpz(f("stored.npz"), "nope"), "NOT_FOUND", "stored.npz", "nope", "c0");
  throwsCode(() => loadNpz(f("stored.npz"), "c0", { chunks: [1, 2, 3] }), "INVALID_CHUNKS", "stored.npz", "c0");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
