// tessera's zstd decoder (assembly/zstd.ts, bound to a memory of its own by src/storage/zstd.ts): frames
// made by the reference library (numcodecs' wasm build at every level; the zstd command line, with its
// content checksums, when it is installed) and frames made by hand (raw, RLE and compressed blocks,
// skippable and concatenated frames, a checksum) decode bit-exactly, in place (the input at the tail of
// the output) and from a separate copy; damaged input is a negative code or a FORMAT_ERROR, never a write
// past the output or a silent success of a truncated or mis-sized frame.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Zstd from "numcodecs/zstd";
import { ZSTD_IN_STAGE_BYTES, ZSTD_OUT_STAGE_BYTES, ZSTD_STREAM_WINDOW_BYTES, ZSTD_WORK_BYTES, createSharedMemory, instantiateKernels, zstdOnOwnMemory } from "../../dist/kernels/wasm.js";
import { ZstdChunkReader, readZstdInPlace, streamZstd, streamerAt } from "../../dist/storage/zstd.js";
import { throwsCode } from "../helpers/check.mjs";

const dir = mkdtempSync(join(tmpdir(), "tessera-zstd-"));
const m = zstdOnOwnMemory();
const E = { CORRUPT: -1, DST_SIZE: -2, UNSUPPORTED: -3, OVERLAP: -4, CHECKSUM: -5, TRUNCATED: -6 };
const GUARD = 64;

/** Decodes `frame` into an output of `cap` bytes (input in place at its tail, or after it): { rc, out, guardOk }. */
function decode(frame, cap, inPlace) {
  const work = Math.ceil(m.base / 64) * 64;
  const dst = Math.ceil((work + m.workBytes) / 64) * 64;
  const src = inPlace ? dst + cap - frame.length : dst + cap + GUARD;
  const end = Math.max(dst + cap + GUARD, src + frame.length) + 64;
  if (end > m.memory.buffer.byteLength) m.memory.grow(Math.ceil((end - m.memory.buffer.byteLength) / 65536));
  const mem = new Uint8Array(m.memory.buffer);
  mem.fill(0xa5, dst, dst + cap + GUARD);
  mem.set(frame, src);
  const rc = m.decompress(dst, cap, src, frame.length, work);
  const guardOk = new Uint8Array(m.memory.buffer, dst + cap, GUARD).every((b) => b === 0xa5);
  return { rc, out: rc >= 0 ? new Uint8Array(m.memory.buffer, dst, rc).slice() : null, guardOk };
}

const same = (a, b) => a !== null && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

/** Data of the kinds Zarr chunks hold: random doubles, smooth floats, small ints, text, zeros, runs, noise. */
function samples() {
  const r = rng(7);
  const f64 = Float64Array.from({ length: 40000 }, () => r());
  const sine = Float32Array.from({ length: 60000 }, (_, i) => Math.sin(i / 50) * 100);
  const ints = Int32Array.from({ length: 50000 }, (_, i) => (i % 1000) + Math.floor(r() * 3));
  const text = new TextEncoder().encode(Array.from({ length: 6000 }, (_, i) => `row ${i} value ${Math.floor(r() * 50)} ${"ab".repeat(i % 9)}\n`).join(""));
  const runs = Uint8Array.from({ length: 200000 }, (_, i) => (Math.floor(i / 700) % 5) * 40);
  const noise = Uint8Array.from({ length: 150000 }, () => Math.floor(r() * 256));
  const sparse = Uint8Array.from({ length: 150000 }, () => (r() < 0.9 ? 0 : Math.floor(r() * 256)));
  const bytes = (t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  return { f64: bytes(f64), sine: bytes(sine), ints: bytes(ints), text, runs, noise, sparse, zeros: new Uint8Array(300000), tiny: Uint8Array.of(1, 2, 3), empty: new Uint8Array(0) };
}

test("frames of the reference library at every level decode bit-exactly, in place and apart", async () => {
  const data = samples();
  let decoded = 0;
  for (const level of [-5, 1, 3, 6, 9, 12, 16, 19, 22]) {
    const z = Zstd.fromConfig({ level });
    for (const [name, bytes] of Object.entries(data)) {
      const frame = await z.encode(bytes);
      for (const inPlace of [false, true]) {
        if (inPlace && frame.length > bytes.length) continue; // an expanded frame is never decoded in place
        const { rc, out, guardOk } = decode(frame, bytes.length, inPlace);
        if (inPlace && rc === E.OVERLAP) continue; // the reader decodes such a frame apart (tested below)
        assert.is(rc, bytes.length, `${name} at level ${level}${inPlace ? " in place" : ""}: rc ${rc}`);
        assert.ok(same(out, bytes), `${name} at level ${level}${inPlace ? " in place" : ""}: different bytes`);
        assert.ok(guardOk, `${name} at level ${level}: wrote past the output`);
        decoded++;
      }
    }
  }
  assert.ok(decoded > 150, `${decoded} frames decoded`);
});

// ---- frames made by hand

const le32 = (v) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
const MAGIC = le32(0xfd2fb528);
/** A block header: last flag, type (0 raw, 1 RLE, 2 compressed), size. */
const block = (last, type, size) => {
  const v = (size << 3) | (type << 1) | (last ? 1 : 0);
  return [v & 255, (v >> 8) & 255, (v >> 16) & 255];
};
/** A frame header with a 4-byte content size (single segment) and no checksum, or a checksum. */
const header = (contentSize, checksum = false) => [...MAGIC, 0x80 | 0x20 | (checksum ? 4 : 0), ...le32(contentSize)];

/** XXH64 (seed 0) of bytes, by the specification, in BigInt arithmetic. */
function xxh64(bytes) {
  const M = (1n << 64n) - 1n;
  const P1 = 11400714785074694791n, P2 = 14029467366897019727n, P3 = 1609587929392839161n, P4 = 9650029242287828579n, P5 = 2870177450012600261n;
  const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M;
  const u64 = (i) => { let v = 0n; for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]); return v; };
  const u32 = (i) => BigInt(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16)) | (BigInt(bytes[i + 3]) << 24n);
  const round = (acc, v) => (rotl((acc + v * P2) & M, 31) * P1) & M;
  const merge = (h, v) => (((h ^ round(0n, v)) * P1) + P4) & M;
  const n = bytes.length;
  let p = 0, h;
  if (n >= 32) {
    let v1 = (P1 + P2) & M, v2 = P2, v3 = 0n, v4 = (M + 1n - P1) & M;
    for (; p + 32 <= n; p += 32) { v1 = round(v1, u64(p)); v2 = round(v2, u64(p + 8)); v3 = round(v3, u64(p + 16)); v4 = round(v4, u64(p + 24)); }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = P5;
  h = (h + BigInt(n)) & M;
  for (; p + 8 <= n; p += 8) h = ((rotl(h ^ round(0n, u64(p)), 27) * P1) + P4) & M;
  if (p + 4 <= n) { h = ((rotl(h ^ ((u32(p) * P1) & M), 23) * P2) + P3) & M; p += 4; }
  for (; p < n; p++) h = (rotl(h ^ ((BigInt(bytes[p]) * P5) & M), 11) * P1) & M;
  h ^= h >> 33n; h = (h * P2) & M; h ^= h >> 29n; h = (h * P3) & M; h ^= h >> 32n;
  return Number(h & 0xffffffffn);
}

test("raw and RLE blocks, skippable and concatenated frames, a content checksum", async () => {
  const text = new TextEncoder().encode("Zarr chunks, one frame each; ".repeat(40));
  // raw block + RLE block + a compressed block of literals alone (raw literals, no sequences)
  const lit = text.subarray(0, 20);
  const frame1 = Uint8Array.from([
    ...header(text.length + 1000 + lit.length),
    ...block(false, 0, text.length), ...text,
    ...block(false, 1, 1000), 0x7a,
    ...block(true, 2, 1 + lit.length + 1), (lit.length << 3) | 0, ...lit, 0,
  ]);
  const want1 = Uint8Array.from([...text, ...new Uint8Array(1000).fill(0x7a), ...lit]);
  let r = decode(frame1, want1.length, false);
  assert.is(r.rc, want1.length);
  assert.ok(same(r.out, want1));
  // a skippable frame, then the frame again, then a frame from the library: their contents end to end
  const lib = await Zstd.fromConfig({ level: 3 }).encode(text);
  const skip = [...le32(0x184d2a53), ...le32(5), 1, 2, 3, 4, 5];
  const multi = Uint8Array.from([...skip, ...frame1, ...lib]);
  r = decode(multi, want1.length + text.length, false);
  assert.is(r.rc, want1.length + text.length);
  assert.ok(same(r.out, [...want1, ...text]));
  // the same frame with a content checksum: verified, and a wrong one refused
  const withSum = Uint8Array.from([...header(want1.length, true), ...frame1.subarray(9), ...le32(xxh64(want1))]);
  r = decode(withSum, want1.length, false);
  assert.is(r.rc, want1.length, "the checksum matches");
  const badSum = withSum.slice();
  badSum[badSum.length - 1] ^= 0x40;
  assert.is(decode(badSum, want1.length, false).rc, E.CHECKSUM);
  // an RLE block that would reach input not yet read, in place: refused before it writes (the reader retries apart)
  const grow = Uint8Array.from([...header(4000), ...block(false, 1, 3990), 0x11, ...block(true, 0, 10), ...text.subarray(0, 10)]);
  assert.is(decode(grow, 4000, true).rc, E.OVERLAP);
  r = decode(grow, 4000, false);
  assert.is(r.rc, 4000);
  assert.ok(same(r.out, [...new Uint8Array(3990).fill(0x11), ...text.subarray(0, 10)]));
});

test("damaged frames: truncated, mis-sized, foreign, with a dictionary: a code, nothing past the output", async () => {
  const data = samples();
  const frame = await Zstd.fromConfig({ level: 3 }).encode(data.text);
  for (const cut of [1, 2, 3, 7, 100, frame.length >> 1, frame.length - 6]) {
    const rc = decode(frame.subarray(0, frame.length - cut), data.text.length, false).rc;
    assert.ok(rc === E.TRUNCATED || rc === E.CORRUPT, `cut by ${cut}: rc ${rc}`);
  }
  // an output one byte short: refused, and nothing written past it
  const short = decode(frame, data.text.length - 1, false);
  assert.is(short.rc, E.DST_SIZE);
  assert.ok(short.guardOk);
  // a frame without a content size (streamed) that decodes to more than the output
  const unsized = Uint8Array.from([...MAGIC, 0x00, 0x58, ...block(true, 1, 5000), 0x33]);
  const big = decode(unsized, 4096, false);
  assert.is(big.rc, E.DST_SIZE);
  assert.ok(big.guardOk);
  assert.is(decode(unsized, 5000, false).rc, 5000, "without a content size, within the output");
  // a declared content size the blocks do not make
  const lying = Uint8Array.from([...header(10), ...block(true, 1, 9), 0x33]);
  assert.is(decode(lying, 100, false).rc, E.CORRUPT);
  assert.is(decode(new TextEncoder().encode("not zstd at all"), 100, false).rc, E.CORRUPT);
  assert.is(decode(Uint8Array.from([...MAGIC, 0x01, 0x58, 7, ...block(true, 1, 9), 0x33]), 100, false).rc, E.UNSUPPORTED, "a dictionary id");
  assert.is(decode(Uint8Array.from([...MAGIC, 0x08, 0x58, ...block(true, 1, 9), 0x33]), 100, false).rc, E.CORRUPT, "the reserved bit");
  // flipped bits anywhere: never a write past the output, never a trap
  const r = rng(3);
  for (let k = 0; k < 400; k++) {
    const f = frame.slice();
    f[Math.floor(r() * f.length)] ^= 1 << Math.floor(r() * 8);
    const { rc, guardOk } = decode(f, data.text.length, false);
    assert.ok(guardOk, `flip ${k}: wrote past the output`);
    assert.ok(rc === data.text.length || rc < 0, `flip ${k}: rc ${rc}`);
  }
});

test("the chunk reader: one read, in place or apart, missing files, errors naming the file", async () => {
  const reader = new ZstdChunkReader(() => m);
  const data = samples();
  // compressible first, incompressible after: in place, the last blocks would reach unread input
  const mixed = Uint8Array.from([...data.zeros.subarray(0, 150000), ...data.noise]);
  for (const [name, bytes] of Object.entries({ ...data, mixed })) {
    const file = join(dir, `${name}.zst`);
    writeFileSync(file, await Zstd.fromConfig({ level: 1 }).encode(bytes));
    const out = reader.read(file, bytes.length);
    assert.ok(same(out, bytes), `${name}: read back`);
  }
  assert.is(reader.read(join(dir, "missing.zst"), 10), null);
  const file = join(dir, "text.zst");
  throwsCode(() => reader.read(file, 100), "FORMAT_ERROR", file, "more than the 100 bytes");
  writeFileSync(join(dir, "junk.zst"), "not zstd at all");
  throwsCode(() => reader.read(join(dir, "junk.zst"), 100), "FORMAT_ERROR", "junk.zst", "not a zstd stream");
});

test("every worker's kernels decode zstd in the kernel memory, within the workspace the pool gives them", () => {
  assert.ok(m.workBytes <= ZSTD_WORK_BYTES, `the decoder needs ${m.workBytes} bytes, the pool reserves ${ZSTD_WORK_BYTES}`);
  if (process.env.TESSERA_KERNELS !== "js") assert.type(instantiateKernels(createSharedMemory(2)).zstd, "function");
});

test("in place in the destination's memory: whole chunks, a frame that would overrun unread input decoded apart", async () => {
  // the decoder bound to a memory standing for the kernel memory: a workspace, then the destination
  const k = zstdOnOwnMemory();
  const work = Math.ceil(k.base / 64) * 64;
  const at = Math.ceil((work + k.workBytes) / 64) * 64;
  const apart = new ZstdChunkReader(() => zstdOnOwnMemory());
  const data = samples();
  const mixed = Uint8Array.from([...data.zeros.subarray(0, 150000), ...data.noise]);
  for (const [name, bytes] of Object.entries({ f64: data.f64, text: data.text, zeros: data.zeros, noise: data.noise, mixed })) {
    const file = join(dir, `inplace-${name}.zst`);
    writeFileSync(file, await Zstd.fromConfig({ level: 1 }).encode(bytes));
    const need = at + bytes.length + 64;
    if (need > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536));
    for (const streamer of [null, apart.streamer]) {
      new Uint8Array(k.memory.buffer).fill(0xa5, at, at + bytes.length + 64);
      const dest = new Uint8Array(k.memory.buffer, at, bytes.length);
      const how = streamer ? "streamed when not in place" : "decoded apart when not in place";
      assert.is(readZstdInPlace(file, dest, { decompress: k.decompress, work }, apart, streamer), bytes.length, `${name}, ${how}`);
      assert.ok(same(dest, bytes), `${name}: decoded in place (${how})`);
      assert.ok(new Uint8Array(k.memory.buffer, at + bytes.length, 64).every((b) => b === 0xa5), `${name}: nothing past the chunk`);
    }
  }
  const dest = new Uint8Array(k.memory.buffer, at, 1000);
  assert.is(readZstdInPlace(join(dir, "none.zst"), dest, { decompress: k.decompress, work }, apart), null, "missing");
  throwsCode(() => readZstdInPlace(join(dir, "inplace-text.zst"), dest, { decompress: k.decompress, work }, apart), "FORMAT_ERROR", "inplace-text.zst", "more than the 1000 bytes");
  const frame = await Zstd.fromConfig({ level: 1 }).encode(data.text.subarray(0, 500));
  writeFileSync(join(dir, "short.zst"), frame);
  assert.is(readZstdInPlace(join(dir, "short.zst"), dest, { decompress: k.decompress, work }, apart), 500, "a shorter chunk: the caller sees its size");
});

/** The window a frame declares (its content size when it is one segment), and whether it has a checksum. */
function frameWindow(f) {
  const fhd = f[4];
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  if (!single) {
    const wd = f[5];
    const base = 2 ** (10 + (wd >> 3));
    return { window: base + (base / 8) * (wd & 7), checksum: (fhd >> 2) & 1 };
  }
  const fcsBytes = [1, 2, 4, 8][fhd >> 6];
  const at = 5 + dictBytes;
  const fcs = fcsBytes === 1 ? f[at] : fcsBytes === 2 ? f[at] + (f[at + 1] << 8) + 256 : f[at] + f[at + 1] * 256 + f[at + 2] * 65536 + f[at + 3] * 2 ** 24;
  return { window: fcs, checksum: (fhd >> 2) & 1 };
}

/**
 * Streams the chunk file through a streamer in a memory of its own (workspace, then the stages):
 * { got, out, ordered, stagesOk }, parts checked to come in order, on element boundaries, and the memory
 * past the stages untouched.
 */
function streamFile(file, expected, w) {
  const k = zstdOnOwnMemory();
  const work = Math.ceil(k.base / 64) * 64;
  const s = streamerAt(k.memory, k.stream, work, work + ZSTD_WORK_BYTES, k.stages);
  const end = s.inStage + ZSTD_IN_STAGE_BYTES + 64;
  if (end + GUARD > k.memory.buffer.byteLength) k.memory.grow(Math.ceil((end + GUARD - k.memory.buffer.byteLength) / 65536));
  new Uint8Array(k.memory.buffer).fill(0xa5, end, end + GUARD);
  const out = new Uint8Array(expected);
  let next = 0;
  let ordered = true;
  const fd = openSync(file, "r");
  try {
    const got = streamZstd(fd, fstatSync(fd).size, file, expected, w, s, (bytes, from) => {
      ordered &&= from === next && (from % w === 0) && (bytes.length % w === 0 || from + bytes.length === expected);
      out.set(bytes, from);
      next = from + bytes.length;
    });
    const stagesOk = new Uint8Array(k.memory.buffer, end, GUARD).every((b) => b === 0xa5);
    return { got, out, ordered: ordered && (got === null || next === got), stagesOk };
  } finally {
    closeSync(fd);
  }
}

test("streamed through the worker's stages: frames of every level decode bit-exactly in parts; others are left to the whole decode", async () => {
  const data = samples();
  const r = rng(21);
  // past the stages (a 2 MiB window and a megabyte of output; a megabyte of input): 5 MiB, compressible
  // in places, incompressible in others, so that input and output stages both refill many times
  const motif = Uint8Array.from({ length: 5000 }, () => Math.floor(r() * 256));
  const big = Uint8Array.from({ length: 5 * 2 ** 20 + 77 }, (_, i) => ((i >> 16) % 3 === 0 ? Math.floor(r() * 256) : motif[(i * 3) % 5000]));
  const f64 = new Uint8Array(Float64Array.from({ length: 2 ** 19 }, r).buffer); // 4 MiB of random doubles
  let streamed = 0;
  let whole = 0;
  for (const level of [-5, 1, 3, 6, 9, 19]) {
    const z = Zstd.fromConfig({ level });
    for (const [name, bytes] of Object.entries({ ...data, big, f64 })) {
      if (bytes.length === 0) continue;
      if (level === 19 && bytes.length > 2 ** 20) continue; // slow; level 9 makes windows of 4 MiB there
      const frame = await z.encode(bytes);
      const file = join(dir, `stream-${name}-${level}.zst`);
      writeFileSync(file, frame);
      for (const w of [1, 8]) {
        if (bytes.length % w) continue;
        const { got, out, ordered, stagesOk } = streamFile(file, bytes.length, w);
        assert.ok(stagesOk, `${name} at level ${level}: wrote past the stages`);
        const { window, checksum } = frameWindow(frame);
        if (window > ZSTD_STREAM_WINDOW_BYTES || checksum) {
          assert.is(got, null, `${name} at level ${level}: a window of ${window} is left to the whole decode`);
          whole++;
          continue;
        }
        assert.is(got, bytes.length, `${name} at level ${level} (window ${window})`);
        assert.ok(ordered, `${name} at level ${level}: parts in order, on element boundaries`);
        assert.ok(same(out, bytes), `${name} at level ${level}, elements of ${w}: different bytes`);
        streamed++;
      }
    }
  }
  assert.ok(streamed > 60 && whole > 0, `${streamed} streamed, ${whole} left to the whole decode`);
  assert.ok(ZSTD_OUT_STAGE_BYTES < big.length, "the big sample is larger than the output stage");
  // frames made by hand: a checksum, a skippable frame first, two frames: left to the whole decode
  const text = new TextEncoder().encode("streamed ".repeat(50));
  const one = Uint8Array.from([...header(text.length), ...block(true, 0, text.length), ...text]);
  const cases = {
    checksum: Uint8Array.from([...header(text.length, true), ...block(true, 0, text.length), ...text, ...le32(xxh64(text))]),
    skippable: Uint8Array.from([...le32(0x184d2a50), ...le32(2), 9, 9, ...one]),
    concatenated: Uint8Array.from([...one, ...one]),
  };
  for (const [name, frame] of Object.entries(cases)) {
    const file = join(dir, `hand-${name}.zst`);
    writeFileSync(file, frame);
    const n = name === "concatenated" ? 2 * text.length : text.length;
    assert.is(streamFile(file, n, 1).got, null, name);
    assert.ok(same(new ZstdChunkReader(() => m).read(file, n), name === "concatenated" ? [...text, ...text] : text), `${name}: the whole decode reads it`);
  }
  // a frame without a content size (a window of 2 MiB): within the chunk, or more than it
  const unsized = join(dir, "hand-unsized.zst");
  writeFileSync(unsized, Uint8Array.from([...MAGIC, 0x00, 0x58, ...block(true, 1, 5000), 0x33]));
  const u = streamFile(unsized, 5000, 8);
  assert.is(u.got, 5000);
  assert.ok(u.out.every((b) => b === 0x33));
  throwsCode(() => streamFile(unsized, 4096, 8), "FORMAT_ERROR", "hand-unsized.zst", "more than the 4096 bytes");
  // damaged: truncated, larger than the chunk, flipped bits: a FORMAT_ERROR naming the file or the right bytes
  const frame = await Zstd.fromConfig({ level: 1 }).encode(big);
  const cutFile = join(dir, "stream-cut.zst");
  for (const cut of [1, 3, 1000, frame.length >> 1, frame.length - 10]) {
    writeFileSync(cutFile, frame.subarray(0, frame.length - cut));
    throwsCode(() => streamFile(cutFile, big.length, 1), "FORMAT_ERROR", "stream-cut.zst");
  }
  writeFileSync(cutFile, frame);
  throwsCode(() => streamFile(cutFile, big.length - 8, 8), "FORMAT_ERROR", "stream-cut.zst", "more than");
  const f = await Zstd.fromConfig({ level: 3 }).encode(data.text);
  for (let k = 0; k < 200; k++) {
    const g = f.slice();
    g[Math.floor(r() * g.length)] ^= 1 << Math.floor(r() * 8);
    writeFileSync(cutFile, g);
    let res;
    try {
      res = streamFile(cutFile, data.text.length, 1);
    } catch (e) {
      assert.is(e.code, "FORMAT_ERROR", `flip ${k}: ${e.message}`);
      continue;
    }
    assert.ok(res.stagesOk, `flip ${k}: wrote past the stages`);
    assert.ok(res.got === null || res.got <= data.text.length, `flip ${k}`);
  }
});

const hasZstd = spawnSync("zstd", ["--version"]).status === 0;
(hasZstd ? test : test.skip)("frames of the zstd command line (content checksums, --ultra -22, --long) decode", () => {
  const data = samples();
  // the slow levels on two samples only (the command line takes half a second a frame there)
  const slow = { text: data.text, sine: data.sine };
  for (const args of [["-1"], ["-19"], ["--ultra", "-22"], ["-3", "--long=24"], ["--fast=5"], ["-9", "--no-check"]]) {
    for (const [name, bytes] of Object.entries(args[0] === "-19" || args[0] === "--ultra" ? slow : data)) {
      const out = spawnSync("zstd", ["-q", "-c", ...args], { input: bytes, maxBuffer: 1 << 26 });
      assert.is(out.status, 0);
      const frame = new Uint8Array(out.stdout);
      const { rc, out: got } = decode(frame, bytes.length, false);
      assert.is(rc, bytes.length, `${name} with ${args.join(" ")}: rc ${rc}`);
      assert.ok(same(got, bytes), `${name} with ${args.join(" ")}`);
    }
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
