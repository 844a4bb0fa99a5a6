// .npy both ways with the real numpy (/usr/bin/python3): numpy writes every numeric dtype, both byte
// orders, C and Fortran order, and tessera reads it exactly; tessera writes and numpy reads it exactly.
// Writes are atomic: a refused or failed save leaves nothing behind. Bad files are coded errors naming them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNpy, saveNpy, random, fromArray, arange } from "../../dist/index.js";
import { rejectsCode, throwsCode } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const required = process.env.TESSERA_INTEROP === "1";
const dir = mkdtempSync(join(tmpdir(), "tessera-npy-"));
const py = (code) => {
  const r = spawnSync(PY, ["-c", code], { encoding: "utf8", cwd: dir });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
};
const peer = hasNumpy ? test : required ? () => test("numpy is installed (TESSERA_INTEROP=1)", () => assert.unreachable("python3-numpy is missing")) : test.skip;
const bytesOf = (nd) => Buffer.from(nd.data.buffer, nd.data.byteOffset, nd.data.byteLength);

peer("numpy writes every numeric dtype, both byte orders, C and Fortran order: tessera reads them exactly", async () => {
  const cases = ["<f8", ">f8", "<f4", ">f4", "<f2", "<i4", ">i4", "<i2", ">u2", "|i1", "|u1", "|b1", "<i8", ">u8", "<u4"];
  py(`
import numpy as np
rng = np.random.default_rng(5)
base = rng.normal(0, 40, size=(37, 23))
for i, t in enumerate(${JSON.stringify(cases)}):
    kind = np.dtype(t).kind
    v = base > 0 if kind == "b" else (np.clip(base, np.iinfo(t).min, np.iinfo(t).max).astype(t) if kind in "iu" else base.astype(t))
    np.save(f"c{i}.npy", v)
    np.save(f"f{i}.npy", np.asfortranarray(v))
    np.save(f"r{i}.npy", v.astype(np.float64))  # the values, as float64 C order
`);
  for (let i = 0; i < cases.length; i++) {
    const want = await loadNpy(join(dir, `r${i}.npy`), { chunks: 37 * 23 }).compute();
    for (const order of ["c", "f"]) {
      const a = loadNpy(join(dir, `${order}${i}.npy`), { chunks: [10, 7] });
      assert.equal(a.shape, [37, 23]);
      const got = await a.astype("float64").compute();
      assert.equal(Array.from(got.data), Array.from(want.data), `${cases[i]} ${order} order`);
    }
  }
  assert.is(loadNpy(join(dir, "c5.npy")).dtype, "int32");
  assert.is(loadNpy(join(dir, "c4.npy")).dtype, "float32", "float16 reads as float32");
  assert.is(loadNpy(join(dir, "c12.npy")).dtype, "float64", "int64 reads as float64 (exact)");
});

peer("int64 beyond 2^53 is DTYPE_OVERFLOW naming the chunk, never rounded", async () => {
  py(`
import numpy as np
v = np.arange(10, dtype="<i8"); v[7] = 2**60
np.save("big.npy", v)`);
  const e = await rejectsCode(loadNpy(join(dir, "big.npy"), { chunks: 4 }).sum().compute(), "DTYPE_OVERFLOW", "1152921504606846976");
  assert.match(e.message, /big\.npy/);
});

peer("tessera writes, numpy reads the same bytes (from every worker, uneven chunks, other dtypes)", async () => {
  const x = random.normal(3, 2, [301, 207], { chunks: [64, 50], seed: 21 });
  const p = join(dir, "out.npy");
  await saveNpy(x, p, { workers: 2 });
  const mine = await x.compute();
  const h = py(`
import numpy as np, hashlib
a = np.load("out.npy")
print(a.dtype.str, a.shape, a.flags["C_CONTIGUOUS"], hashlib.sha256(a.tobytes()).hexdigest())`);
  assert.is(h, `<f8 (301, 207) True ${createHash("sha256").update(bytesOf(mine)).digest("hex")}`);
  // int32 as uint16 on disk, and a 0-d and a bool array
  await saveNpy(arange(1000, { chunks: 300 }).mul(60), join(dir, "u16.npy"), { dtype: "uint16" });
  assert.is(py(`import numpy as np; a = np.load("u16.npy"); print(a.dtype.str, int(a[999]), int(a.sum()))`), `<u2 59940 ${60 * 499500}`);
  await saveNpy(fromArray([true, false, true]), join(dir, "b.npy"));
  assert.is(py(`import numpy as np; print(np.load("b.npy").tolist())`), "[True, False, True]");
  await saveNpy(x.sum(), join(dir, "scalar.npy"));
  assert.is(py(`import numpy as np; a = np.load("scalar.npy"); print(a.shape)`), "()");
  assert.equal(readdirSync(dir).filter((f) => f.includes("tessera-partial")), [], "no temporary file left");
});

test("a save that is refused or fails leaves nothing behind, and the old file intact", async () => {
  const p = join(dir, "keep.npy");
  await saveNpy(arange(10, { chunks: 3 }), p);
  const before = readFileSync(p);
  await rejectsCode(saveNpy(arange(10), p), "ALREADY_EXISTS", "keep.npy");
  const bad = arange(10, { chunks: 3 }).astype("float64").mapBlocks((b, info) => {
    if (info.blockIndex[0] === 2) throw new Error("block boom");
    return b;
  });
  await rejectsCode(saveNpy(bad, p, { overwrite: true }), "TASK_FAILED", "block boom");
  assert.ok(readFileSync(p).equals(before), "the old file is untouched");
  await rejectsCode(saveNpy(arange(100000, { chunks: 30000 }), join(dir, "u8.npy"), { dtype: "uint8" }), "DTYPE_OVERFLOW", "does not fit uint8");
  assert.not.ok(existsSync(join(dir, "u8.npy")));
  assert.equal(readdirSync(dir).filter((f) => f.includes("tessera-partial")), []);
  // and a successful overwrite replaces it
  await saveNpy(arange(4), p, { overwrite: true });
  assert.equal(Array.from((await loadNpy(p).compute()).data), [0, 1, 2, 3]);
});

test("round trip through tessera alone, with views and chunks that differ from the file's", async () => {
  const x = random.random([130, 90], { chunks: [40, 40], seed: 2 });
  const p = join(dir, "rt.npy");
  await saveNpy(x.T, p);
  const y = loadNpy(p, { chunks: [17, 33] });
  assert.equal(y.shape, [90, 130]);
  assert.ok(bytesOf(await y.compute()).equals(bytesOf(await x.T.compute())));
  assert.is(await y.T.sum().compute(), await x.rechunk([33, 17]).sum().compute());
});

test("bad files: a missing path, a corrupt header, a truncated file, a structured dtype", () => {
  throwsCode(() => loadNpy(join(dir, "nope.npy")), "IO_ERROR", "nope.npy");
  writeFileSync(join(dir, "junk.npy"), "not numpy at all");
  throwsCode(() => loadNpy(join(dir, "junk.npy")), "FORMAT_ERROR", "junk.npy");
  const good = readFileSync(join(dir, "rt.npy"));
  writeFileSync(join(dir, "short.npy"), good.subarray(0, good.length - 100));
  throwsCode(() => loadNpy(join(dir, "short.npy")), "FORMAT_ERROR", "truncated");
  const hdr = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const dict = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }".padEnd(117) + "\n";
  const len = Buffer.alloc(2);
  len.writeUInt16LE(dict.length);
  writeFileSync(join(dir, "struct.npy"), Buffer.concat([hdr, len, Buffer.from(dict, "latin1"), Buffer.alloc(16)]));
  throwsCode(() => loadNpy(join(dir, "struct.npy")), "INVALID_DTYPE", "structured");
  throwsCode(() => loadNpy(123), "INVALID_ARGUMENT");
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
