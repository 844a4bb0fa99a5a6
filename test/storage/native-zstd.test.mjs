// The zstd reader addon (native/codecs/zstd.cc, storage/native-zstd.ts): frames written by numcodecs'
// zstd (the C library) decoded by the system's libzstd straight into a kernel memory, byte for byte; bad
// frames get assembly/zstd.ts's codes (so the same FORMAT_ERROR text); the Zarr read path uses it and
// reads the same arrays as the wasm decoder (TESSERA_NATIVE_ZSTD=0, in a child process).
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Zstd } from "numcodecs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nativeZstdInfo, nativeZstdReader } from "../../dist/storage/native-zstd.js";
import { createSharedMemory } from "../../dist/kernels/wasm.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-native-zstd-"));
const info = nativeZstdInfo();
const libzstd = ["/usr/lib/x86_64-linux-gnu/libzstd.so.1", "/usr/lib64/libzstd.so.1", "/usr/lib/libzstd.so.1"].some((p) => existsSync(p));
if (!info) console.log("native-zstd.test: the zstd reader is not loaded (not built, or no libzstd): the wasm decoder runs");

const mem = createSharedMemory(256);
const read = info ? nativeZstdReader(mem) : null;
const DST = 1 << 20;

/** Decodes the file holding `frame` into the memory at DST with room for `cap` bytes: the RC and the bytes. */
function decode(frame, cap) {
  const f = join(dir, `f${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, frame);
  const fd = openSync(f, "r");
  try {
    const rc = read(fd, frame.length, DST, cap);
    return { rc, bytes: new Uint8Array(mem.buffer, DST, Math.max(rc, 0)).slice() };
  } finally {
    closeSync(fd);
  }
}

function data(n, seed) {
  const f = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    f[i] = i % 7 === 0 ? 0 : x / 2147483648; // random mantissas (Huffman literals) and runs of zeros (matches)
  }
  return new Uint8Array(f.buffer);
}

test("where libzstd is installed the reader loads", () => {
  if (libzstd && process.platform === "linux" && process.env.TESSERA_NATIVE_ZSTD !== "0") assert.ok(info, "libzstd.so.1 is here but the reader did not load (npm install builds it)");
  if (info) assert.match(info.version, /^1\./);
});

test("numcodecs' frames, byte for byte, of several sizes and levels (pieces of 1 MiB fed in turn)", async () => {
  if (!info) return;
  for (const [n, level] of [[0, 1], [1, 3], [1001, 1], [300_000, 5], [600_000, 1]]) {
    const raw = data(n, n + level);
    const frame = new Uint8Array(await Zstd.fromConfig({ level }).encode(raw));
    const { rc, bytes } = decode(frame, raw.length + 64);
    assert.is(rc, raw.length, `n ${n} level ${level}`);
    assert.equal(Buffer.compare(Buffer.from(bytes), Buffer.from(raw)), 0, `n ${n} level ${level}: the same bytes`);
  }
});

test("bad frames: assembly/zstd.ts's codes (truncated, corrupt, larger than the chunk, not zstd)", async () => {
  if (!info) return;
  const raw = data(200_000, 9);
  const frame = new Uint8Array(await Zstd.fromConfig({ level: 3 }).encode(raw));
  assert.is(decode(frame.subarray(0, frame.length - 100), raw.length).rc, -6, "truncated");
  assert.is(decode(frame, raw.length - 8).rc, -2, "decodes to more than the room");
  assert.is(decode(new Uint8Array(1000).fill(7), raw.length).rc, -1, "not a zstd frame");
  const flipped = frame.slice();
  for (let i = 200; i < flipped.length; i += 997) flipped[i] ^= 0x5a;
  assert.ok([-1, -5, -6].includes(decode(flipped, raw.length + 64).rc), "bit flips: corrupt (or checksum, or truncated)");
});

// whole rows of chunks: the ones read in place, where the native reader decodes
test("openZarr of zstd chunks: the native reader and the wasm decoder read the same array", () => {
  const p = join(dir, "z.zarr");
  const script = (extra) => `const t = await import(${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)});
    ${extra}
    const a = await t.openZarr(${JSON.stringify(p)}).compute();
    let h = 0; for (const v of a.data) h = (h * 31 + Math.round(v * 1e6)) % 1000000007;
    console.log(JSON.stringify({ n: a.data.length, h, sum: await t.openZarr(${JSON.stringify(p)}).sum().compute() }));
    await t.shutdown();`;
  const write = spawnSync(process.execPath, ["--input-type=module", "-e", `const t = await import(${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)});
    await t.toZarr(t.random.random([700, 900], { chunks: [256, 900], seed: 5 }), ${JSON.stringify(p)}, { codec: "zstd" }); await t.shutdown();`], { encoding: "utf8" });
  assert.is(write.status, 0, write.stderr);
  const runs = ["", "0"].map((v) => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script("")], { encoding: "utf8", env: { ...process.env, TESSERA_NATIVE_ZSTD: v } });
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop());
  });
  assert.is(runs[0].n, 700 * 900);
  assert.equal(runs[0], runs[1]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
