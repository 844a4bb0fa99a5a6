// tessera's zstd encoder (assembly/zstd-encode.ts, bound by src/storage/zstd-write.ts): its frames decode
// bit-exactly with the real peers: the C library (python3 numcodecs from Debian; the zstd command line
// when installed), numcodecs' npm build and tessera's own decoder, over the data Zarr chunks hold (random
// doubles, zeros, repeated patterns, int32 and uint8 data, text, odd and block-crossing sizes); a chunk
// compressed in parts gives the same frame as in one call; no write passes the output's bound; its ratio
// is within 10% of the C library's level 1 on compressible data; toZarr writes exactly these frames.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Zstd from "numcodecs/zstd";
import { ZSTD_AREA_BYTES, ZSTD_ENCODE_WINDOW_BYTES, ZSTD_ENCODE_WORK_BYTES, ZSTD_PART_BYTES, ZSTD_PART_OUT_BYTES, ZSTD_WORK_BYTES, createSharedMemory, instantiateKernels, kernelModule, zstdEncoderOnOwnMemory, zstdOnOwnMemory } from "../../dist/kernels/wasm.js";
import { ZstdChunkWriter, writeZstdFrame } from "../../dist/storage/zstd-write.js";
import { bytesSource } from "../../dist/storage/chunk-bytes.js";
import { openZarr, random, toZarr } from "../../dist/index.js";

const PY = "/usr/bin/python3";
const hasNumcodecs = spawnSync(PY, ["-c", "import numcodecs"]).status === 0;
const required = process.env.TESSERA_INTEROP === "1";
const peer = hasNumcodecs ? test : required ? (name) => test(name, () => assert.unreachable("python3-numcodecs is missing")) : test.skip;
const hasCli = spawnSync("zstd", ["--version"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "tessera-zstd-encode-"));

const enc = zstdEncoderOnOwnMemory();
const dec = zstdOnOwnMemory();
const BLOCK = 131072;
const GUARD = 256;
const align = (n) => Math.ceil(n / 64) * 64;

/**
 * Compresses `bytes` (parts of `part` input bytes, each into an output of exactly its bound followed by a
 * guard) in the encoder's memory; returns { frame, guardOk }.
 */
function compress(bytes, part = ZSTD_PART_BYTES) {
  const work = align(enc.base);
  const out = align(work + ZSTD_ENCODE_WORK_BYTES);
  const src = align(out + ZSTD_PART_OUT_BYTES + GUARD);
  const end = src + bytes.length + 64;
  if (end > enc.memory.buffer.byteLength) enc.memory.grow(Math.ceil((end - enc.memory.buffer.byteLength) / 65536));
  new Uint8Array(enc.memory.buffer, src, bytes.length).set(bytes);
  const parts = [];
  let guardOk = true;
  let at = 0;
  do {
    const to = Math.min(bytes.length, at + part);
    const cap = to - at + 3 * (Math.ceil((to - at) / BLOCK) + 1) + 18 + 512; // zstdCompressBound
    new Uint8Array(enc.memory.buffer, out + cap, GUARD).fill(0xa5);
    const rc = enc.compress(out, cap, src, at, to, bytes.length, work);
    assert.ok(rc > 0, `part [${at}, ${to}) of ${bytes.length}: code ${rc}`);
    guardOk &&= new Uint8Array(enc.memory.buffer, out + cap, GUARD).every((b) => b === 0xa5);
    parts.push(new Uint8Array(enc.memory.buffer, out, rc).slice());
    at = to;
  } while (at < bytes.length);
  return { frame: Buffer.concat(parts), guardOk };
}

function decodeOwn(frame, n) {
  const work = align(dec.base);
  const dst = align(work + dec.workBytes);
  const src = align(dst + n + 64);
  const end = src + frame.length + 64;
  if (end > dec.memory.buffer.byteLength) dec.memory.grow(Math.ceil((end - dec.memory.buffer.byteLength) / 65536));
  new Uint8Array(dec.memory.buffer, src, frame.length).set(frame);
  const rc = dec.decompress(dst, n, src, frame.length, work);
  return rc < 0 ? null : new Uint8Array(dec.memory.buffer, dst, rc).slice();
}

const same = (a, b) => a !== null && a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
const bytesOf = (t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength);

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Chunks of the kinds Zarr holds; `compressible` marks those the ratio test compares with the C library. */
function samples() {
  const r = rng(11);
  const f64 = Float64Array.from({ length: 100000 }, () => r());
  const smooth = Float64Array.from({ length: 70000 }, (_, i) => Math.round(Math.sin(i / 300) * 1000) / 16);
  const i32 = Int32Array.from({ length: 90000 }, (_, i) => (i % 1000) + Math.floor(r() * 3));
  const u8 = Uint8Array.from({ length: 200001 }, () => Math.floor(Math.pow(r(), 3) * 256));
  const pattern = Uint8Array.from({ length: BLOCK + 1 }, (_, i) => "tessera zarr chunk ".charCodeAt(i % 19));
  const text = new TextEncoder().encode(Array.from({ length: 9000 }, (_, i) => `row ${i} value ${Math.floor(r() * 50)} ${"ab".repeat(i % 9)}\n`).join(""));
  const sparse = Float64Array.from({ length: 50000 }, () => (r() < 0.95 ? 0 : r()));
  const runs = Uint8Array.from({ length: 3 * BLOCK + 17 }, (_, i) => (Math.floor(i / 700) % 5) * 40);
  const noise = Uint8Array.from({ length: 2 * BLOCK + 5 }, () => Math.floor(r() * 256));
  return {
    f64: [bytesOf(f64), false],
    smooth: [bytesOf(smooth), true],
    i32: [bytesOf(i32), true],
    u8: [u8, true],
    pattern: [pattern, true],
    text: [text, true],
    sparse: [bytesOf(sparse), true],
    runs: [runs, true],
    noise: [noise, false],
    zeros: [new Uint8Array(3 * BLOCK + 1), false],
    empty: [new Uint8Array(0), false],
    one: [Uint8Array.of(7), false],
    seven: [Uint8Array.of(1, 2, 3, 4, 5, 6, 7), false],
    "64": [Uint8Array.from({ length: 64 }, (_, i) => i & 7), false],
    "128 KiB + 1": [Uint8Array.from({ length: BLOCK + 1 }, (_, i) => (i * 7) & 0x3f), true],
  };
}

test("the kernel module's encoder fits the areas the pool reserves (else toZarr would fall back to numcodecs)", () => {
  const e = new WebAssembly.Instance(kernelModule(), { env: { memory: createSharedMemory(2), abort: () => {} } }).exports;
  assert.is(e.zstdCompressWorkBytes(), ZSTD_ENCODE_WORK_BYTES, "ZSTD_ENCODE_WORK_BYTES is the encoder's own need");
  assert.ok(e.zstdCompressBound(ZSTD_PART_BYTES) <= ZSTD_PART_OUT_BYTES);
  assert.is(e.zstdCompressWindowBytes(), ZSTD_ENCODE_WINDOW_BYTES, "the stage keeps the encoder's own window");
  assert.ok(ZSTD_AREA_BYTES >= ZSTD_ENCODE_WORK_BYTES + ZSTD_PART_OUT_BYTES && ZSTD_AREA_BYTES >= ZSTD_WORK_BYTES);
  assert.type(instantiateKernels(createSharedMemory(2)).zstdCompress, "function", "the kernels in a worker have the encoder");
});

test("frames decode bit-exactly with numcodecs (npm) and tessera's decoder; nothing written past the bound", async () => {
  const z = Zstd.fromConfig({ level: 1 });
  for (const [name, [bytes]] of Object.entries(samples())) {
    const { frame, guardOk } = compress(bytes);
    assert.ok(guardOk, `${name}: wrote past the output's bound`);
    assert.is(frame.readUInt32LE(0), 0xfd2fb528, `${name}: a zstd frame`);
    assert.ok(same(decodeOwn(frame, bytes.length), bytes), `${name}: tessera's decoder`);
    assert.ok(same(new Uint8Array(await z.decode(frame)), bytes), `${name}: numcodecs (npm)`);
    // stored blocks when nothing shrinks: at most a header and 3 bytes per block more than the data
    assert.ok(frame.length <= bytes.length + 14 + 3 * Math.max(1, Math.ceil(bytes.length / BLOCK)), `${name}: ${frame.length} bytes for ${bytes.length}`);
  }
});

test("a chunk compressed in parts of 128 KiB, 1 MiB or at once gives the same frame; bad arguments are refused", () => {
  const r = rng(5);
  const bytes = Uint8Array.from({ length: 5 * BLOCK + 999 }, (_, i) => (r() < 0.5 ? i & 0xff : Math.floor(r() * 8)));
  const whole = compress(bytes, bytes.length).frame;
  assert.ok(same(compress(bytes, BLOCK).frame, whole), "parts of 128 KiB");
  assert.ok(same(compress(bytes, 2 * BLOCK).frame, whole), "parts of 256 KiB");
  assert.ok(same(decodeOwn(whole, bytes.length), bytes));
  const work = align(enc.base);
  const out = align(work + ZSTD_ENCODE_WORK_BYTES);
  assert.is(enc.compress(out, 1 << 20, out + (2 << 20), 1000, 2000, 5000, work), -7, "a part that does not start on a block");
  assert.is(enc.compress(out, 100, out + (2 << 20), 0, 4096, 4096, work), -2, "an output below the bound");
  assert.is(enc.compress(out, 1 << 20, out + (2 << 20), 0, 5000, 4096, work), -7, "a part past the chunk");
});

test("the ratio is within 10% of the C library's level 1 (numcodecs) on compressible data, and as good on random doubles", async () => {
  const z = Zstd.fromConfig({ level: 1 });
  for (const [name, [bytes, compressible]] of Object.entries(samples())) {
    if (bytes.length < 1000) continue;
    const mine = compress(bytes).frame.length;
    const theirs = (await z.encode(bytes)).length;
    if (compressible) assert.ok(mine <= theirs * 1.1 + 16, `${name}: ${mine} bytes vs the C library's ${theirs}`);
    else assert.ok(mine <= theirs * 1.01 + 16, `${name}: ${mine} bytes vs the C library's ${theirs}`);
  }
  const f64 = bytesOf(Float64Array.from({ length: 1 << 17 }, rng(3)));
  const mine = compress(f64).frame.length;
  assert.ok(mine < f64.length * 0.95, `random doubles: the exponent bytes are Huffman-coded (${mine} of ${f64.length})`);
});

peer("the C library (python3 numcodecs, and the zstd command line when installed) decodes every frame bit-exactly", () => {
  const names = [];
  for (const [name, [bytes]] of Object.entries(samples())) {
    if (bytes.length === 0) continue; // numcodecs 0.11 refuses every empty frame, the C library's own too ("invalid input data")
    const k = names.length;
    writeFileSync(join(dir, `${k}.raw`), bytes);
    writeFileSync(join(dir, `${k}.zst`), compress(bytes).frame);
    names.push(name);
  }
  const r = spawnSync(PY, ["-c", `
import numcodecs, sys
z = numcodecs.Zstd(level=1)
for k in range(${names.length}):
    raw = open(f"{k}.raw", "rb").read()
    got = bytes(z.decode(open(f"{k}.zst", "rb").read()))
    print(k, got == raw, len(got))
`], { cwd: dir, encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines.length, names.length);
  for (const line of lines) {
    const [k, ok] = line.split(" ");
    assert.is(ok, "True", `${names[Number(k)]}: python numcodecs decodes it to other bytes (${line})`);
  }
  if (hasCli) {
    for (let k = 0; k < names.length; k++) {
      const c = spawnSync("zstd", ["-d", "-c", "-q", join(dir, `${k}.zst`)], { maxBuffer: 1 << 28 });
      assert.is(c.status, 0, `${names[k]}: zstd -d: ${c.stderr}`);
      assert.ok(c.stdout.equals(readFileSync(join(dir, `${k}.raw`))), `${names[k]}: zstd -d gives other bytes`);
    }
  }
});

test("ZstdChunkWriter (through its stage) and writeZstdFrame write the encoder's frame to a file, part by part", async () => {
  const bytes = Uint8Array.from({ length: 3 * BLOCK + 5 }, (_, i) => (i % 977) & 0xff);
  const want = compress(bytes).frame;
  const sizes = (partBytes) => ({ workBytes: ZSTD_ENCODE_WORK_BYTES, partBytes, outBytes: ZSTD_PART_OUT_BYTES, window: ZSTD_ENCODE_WINDOW_BYTES });
  const w = new ZstdChunkWriter(() => zstdEncoderOnOwnMemory(), sizes(BLOCK));
  const f = join(dir, "w.zst");
  let fd = openSync(f, "w");
  assert.is(w.write(fd, bytesSource(bytes), f), want.length);
  closeSync(fd);
  assert.ok(readFileSync(f).equals(want), "the same frame in parts of 128 KiB");
  // chunks larger than the stage (which holds the window and one part): matches reach back across parts, into
  // bytes the stage has already let go of in the far past; the frame is still the one from the whole chunk
  const r = rng(9);
  const motif = Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256));
  for (const n of [ZSTD_ENCODE_WINDOW_BYTES, ZSTD_ENCODE_WINDOW_BYTES + 1, 3 * ZSTD_PART_BYTES + 12345, 5 * ZSTD_PART_BYTES]) {
    const big = Uint8Array.from({ length: n }, (_, i) => (r() < 0.7 ? motif[(i * 7) % 4096] : Math.floor(r() * 256)));
    for (const part of [BLOCK, ZSTD_PART_BYTES]) {
      const staged = new ZstdChunkWriter(() => zstdEncoderOnOwnMemory(), sizes(part));
      fd = openSync(f, "w");
      staged.write(fd, bytesSource(big), f);
      closeSync(fd);
      assert.ok(readFileSync(f).equals(compress(big).frame), `${n} bytes in parts of ${part}: the whole chunk's frame`);
    }
  }
  fd = openSync(f, "w");
  w.write(fd, bytesSource(new Uint8Array(0)), f);
  closeSync(fd);
  assert.ok(same(new Uint8Array(await Zstd.fromConfig({ level: 1 }).decode(readFileSync(f))), new Uint8Array(0)), "an empty chunk");
  assert.type(writeZstdFrame, "function");
});

test("toZarr with codec zstd (v2 and v3) writes the encoder's frames, whole and edge chunks; other levels still go through numcodecs", async () => {
  const x = random.random([300, 256], { chunks: [256, 256], seed: 3 });
  const data = await x.compute();
  const head = bytesOf(data.data.subarray(0, 256 * 256));
  const edge = new Float64Array(256 * 256); // the edge chunk is stored full size, its tail the fill value 0
  edge.set(data.data.subarray(256 * 256));
  for (const format of [2, 3]) {
    const p = join(dir, `t${format}.zarr`);
    await toZarr(x, p, { codec: "zstd", format });
    const key = (i) => (format === 2 ? `${i}.0` : join("c", `${i}`, "0"));
    assert.ok(readFileSync(join(p, key(0))).equals(compress(head).frame), `v${format}: the whole chunk, compressed in the kernel memory`);
    assert.ok(readFileSync(join(p, key(1))).equals(compress(bytesOf(edge)).frame), `v${format}: the edge chunk, staged in the writer's memory`);
  }
  // chunks larger than the encoder's window, edge chunks on both axes, and a dtype converted on disk: the
  // stored bytes made part by part through the stage give the frames of the padded (converted) chunks
  const y = random.random([700, 650], { chunks: [512, 512], seed: 4 });
  const yd = (await y.compute()).data;
  for (const dtype of ["float64", "float32"]) {
    const p = join(dir, `big-${dtype}.zarr`);
    await toZarr(y, p, { codec: "zstd", dtype });
    for (const [i, j] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const chunk = dtype === "float64" ? new Float64Array(512 * 512) : new Float32Array(512 * 512);
      for (let r = 0; r < 512 && i * 512 + r < 700; r++) for (let c = 0; c < 512 && j * 512 + c < 650; c++) chunk[r * 512 + c] = yd[(i * 512 + r) * 650 + j * 512 + c];
      assert.ok(readFileSync(join(p, `${i}.${j}`)).equals(compress(bytesOf(chunk)).frame), `${dtype} chunk ${i}.${j}`);
    }
    const back = (await openZarr(p).compute()).data;
    assert.ok(back.every((v, k) => v === (dtype === "float64" ? yd[k] : Math.fround(yd[k]))), `${dtype}: read back exactly`);
  }
  const p = join(dir, "l5.zarr");
  await toZarr(x, p, { codec: { name: "zstd", level: 5 } });
  const got = new Uint8Array(await Zstd.fromConfig({ level: 5 }).decode(readFileSync(join(p, "0.0"))));
  assert.ok(same(got, head), "level 5: numcodecs' frame");
  assert.equal(readdirSync(dir).filter((f) => f.includes("tessera-tmp")), []);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
