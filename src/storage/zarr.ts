/**
 * Zarr chunks in the workers: a read task assembles its region from every storage chunk it meets (a
 * missing chunk is the fill value), a write task writes exactly one storage chunk (the sink's chunks are
 * the Zarr chunks), padded to full size at the array's edge as Zarr stores it, to a temporary name that is
 * renamed over the chunk: a crash leaves every chunk file old or new, never torn.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { threadId } from "node:worker_threads";
import { TesseraError } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { cStrides, sizeOf } from "../grid.js";
import { decode, encode, parseTypestr, sameBytes, type DiskDType } from "./disk-dtype.js";
import { decodeBytes, encodeBytes } from "./zarr-codecs.js";
import { chunkKey, type ZarrSink, type ZarrSource } from "./zarr-meta.js";
import type { ChunkDecoders, ChunkEncoders } from "./types.js";
import { readZstdInPlace, streamZstd, type ZstdStreamer } from "./zstd.js";
import { ownZstdLevel, writeZstdFrame } from "./zstd-write.js";
import { StoredChunkBytes, bytesSource, type ByteSource } from "./chunk-bytes.js";
import { chunkBoxes, forEachPairRun, readRunsAt, writeRunsAt } from "./chunk-runs.js";
import { giveBackStaging, takeStaging } from "./staging.js";
import { deferSync } from "./durable.js";

export type { ZarrSink, ZarrSource } from "./zarr-meta.js";

/** A chunk file's bytes, or null when it is missing (it then reads as the fill value). */
function readChunkFile(file: string): Uint8Array | null {
  try {
    return readFileSync(file);
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads region (start, shape) of a Zarr array into `into` (C order over the region). `decoders`: faster
 * decoders the calling worker has (zstd in its own WebAssembly memory); without them, numcodecs'.
 */
export async function readZarrRegion(src: ZarrSource, start: readonly number[], shape: readonly number[], into: TypedArray, decoders?: ChunkDecoders): Promise<void> {
  const nd = shape.length;
  if (sizeOf(shape) === 0) return;
  const d = parseTypestr(src.typestr, src.dir);
  const cs = src.chunkShape;
  const chunkElems = sizeOf(cs);
  const regionSt = cStrides(shape);
  const chunkSt = cStrides(cs);
  // a transposed chunk (v2 order F, v3 transpose): element j of the chunk is at sum_a j[a] * storedSt[a]
  let storedSt = chunkSt;
  if (src.perm) {
    const tShape = src.perm.map((a) => cs[a]!);
    const tSt = cStrides(tShape);
    storedSt = new Array<number>(nd);
    src.perm.forEach((a, i) => (storedSt[a] = tSt[i]!));
  }
  const zstd = src.codecs.length === 1 && src.codecs[0]!.id === "zstd" ? (decoders?.zstd ?? null) : null;
  const inPlace = zstd && !src.perm && nd > 0 && sameBytes(d, into) ? (decoders?.zstdInPlace ?? null) : null;
  const streamer = zstd && !src.perm ? zstd.streamer : null;
  for (const { idx, box, inChunk, inRegion } of chunkBoxes(cs, storedSt, start, shape)) {
    const key = chunkKey(src.key, idx);
    const file = join(src.dir, key);
    const where = `${file} (chunk [${idx.join(", ")}])`;
    const expected = chunkElems * d.bytes;
    // uncompressed bytes in the region's own dtype, of whole chunk rows (one run of the file): read straight
    // into place, with one readv into the region's rows when those are strided (a task over several chunks)
    if (nd > 0 && !src.codecs.length && !src.perm && sameBytes(d, into) && box.every((b, a) => a === 0 || b === cs[a])) {
      const rowBytes = (chunkElems / cs[0]!) * d.bytes;
      const from = (Math.max(start[0]!, idx[0]! * cs[0]!) - idx[0]! * cs[0]!) * rowBytes;
      const runs: Uint8Array[] = [];
      if (box.every((b, a) => a === 0 || b === shape[a])) runs.push(new Uint8Array(into.buffer, into.byteOffset + inRegion * d.bytes, box[0]! * rowBytes));
      else forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (a, _b, n) => runs.push(new Uint8Array(into.buffer, into.byteOffset + a * d.bytes, n * d.bytes)));
      if (!readChunkInto(file, expected, from, runs)) forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (a, _b, n) => into.fill(src.fill, a, a + n));
      continue;
    }
    // a zstd storage chunk that is the task's whole chunk (or whole rows of it) in the array's own dtype:
    // decoded straight into place
    if (inPlace && box.every((b, a) => b === cs[a] && (a === 0 || b === shape[a]))) {
      const got = readZstdInPlace(file, new Uint8Array(into.buffer, into.byteOffset + inRegion * d.bytes, expected), inPlace, zstd!, streamer);
      if (got === null) forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (a, _b, n) => into.fill(src.fill, a, a + n));
      else if (got !== expected) throw wrongSize(file, got, expected, cs, d);
      continue;
    }
    // any other zstd chunk (not transposed): streamed, each part's elements converted into the region's
    if (streamer) {
      const got = streamChunkInto(file, expected, d, streamer, box, chunkSt, inChunk, regionSt, inRegion, into, where);
      if (got === null) {
        forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (a, _b, n) => into.fill(src.fill, a, a + n));
        continue;
      }
      if (got !== false) {
        if (got !== expected) throw wrongSize(file, got, expected, cs, d);
        continue;
      }
      // false: a frame the streamed decoder leaves to the whole-frame one, below
    }
    let raw: Uint8Array | null;
    if (zstd) raw = zstd.read(file, expected);
    else {
      const stored = readChunkFile(file);
      raw = stored === null ? null : await decodeBytes(src.codecs, stored, expected, file);
    }
    if (raw === null) {
      forEachPairRun(box, regionSt, inRegion, regionSt, inRegion, (a, _b, n) => into.fill(src.fill, a, a + n));
    } else {
      if (raw.length !== expected) throw wrongSize(file, raw.length, expected, cs, d);
      if (!src.perm) {
        forEachPairRun(box, chunkSt, inChunk, regionSt, inRegion, (c, r, n) => decode(d, raw.subarray(c * d.bytes, (c + n) * d.bytes), n, into, r, where));
      } else {
        gatherTransposed(d, raw, chunkElems, box, storedSt, inChunk, regionSt, inRegion, into, where);
      }
    }
  }
}

/**
 * Streams the zstd chunk `file` into the region: each decoded part's elements that the box holds, converted
 * into place. Returns the bytes decoded, null when the file is missing, false when the frame needs the
 * whole-frame decoder.
 */
function streamChunkInto(file: string, expected: number, d: DiskDType, s: ZstdStreamer, box: number[], chunkSt: number[], inChunk: number, regionSt: number[], inRegion: number, into: TypedArray, where: string): number | null | false {
  const runs: number[] = []; // (element in the chunk, element in the region, elements), in the chunk's order
  forEachPairRun(box, chunkSt, inChunk, regionSt, inRegion, (c, r, n) => runs.push(c, r, n));
  const w = d.bytes;
  let k = 0;
  const deliver = (bytes: Uint8Array, from: number) => {
    const e0 = from / w;
    const e1 = e0 + Math.floor(bytes.length / w);
    while (k < runs.length && runs[k]! + runs[k + 2]! <= e0) k += 3;
    for (let j = k; j < runs.length && runs[j]! < e1; j += 3) {
      const lo = Math.max(runs[j]!, e0);
      const hi = Math.min(runs[j]! + runs[j + 2]!, e1);
      decode(d, bytes.subarray((lo - e0) * w, (hi - e0) * w), hi - lo, into, runs[j + 1]! + (lo - runs[j]!), where);
    }
  };
  const fd = openChunkFile(file);
  if (fd === null) return null;
  try {
    return streamZstd(fd, fstatSync(fd).size, file, expected, w, s, deliver) ?? false;
  } catch (e) {
    throw e instanceof TesseraError ? e : new TesseraError("FORMAT_ERROR", `${file}: cannot decode the zstd chunk: ${(e as Error).message}`, { cause: e });
  } finally {
    closeSync(fd);
  }
}

/** An open chunk file, or null when it is missing. */
function openChunkFile(file: string): number | null {
  try {
    return openSync(file, "r");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw new TesseraError("IO_ERROR", `cannot read the chunk ${file}: ${(e as Error).message}`, { cause: e });
  }
}

const wrongSize = (file: string, got: number, expected: number, cs: readonly number[], d: DiskDType) =>
  new TesseraError("FORMAT_ERROR", `${file}: the chunk holds ${got} bytes, not the ${expected} of a [${cs.join(", ")}] ${d.typestr} chunk (truncated, or not a chunk of this array)`);

/**
 * Reads the bytes from `from` on of an uncompressed chunk file straight into `runs` (one after another, as
 * the file holds them), after checking the file is exactly a chunk's size; false when the file is missing.
 */
function readChunkInto(file: string, expected: number, from: number, runs: Uint8Array[]): boolean {
  const fd = openChunkFile(file);
  if (fd === null) return false;
  try {
    const size = fstatSync(fd).size;
    if (size !== expected) throw new TesseraError("FORMAT_ERROR", `${file}: the chunk holds ${size} bytes, not the ${expected} of a chunk of this array (truncated, or not a chunk of this array)`);
    readRunsAt(fd, file, runs, from);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** Decodes a transposed chunk whole, then picks the box's elements into the region element by element. */
function gatherTransposed(d: DiskDType, raw: Uint8Array, n: number, box: number[], srcSt: number[], srcAt: number, dstSt: number[], dstAt: number, into: TypedArray, where: string): void {
  const tmp = new (into.constructor as new (n: number) => TypedArray)(n);
  decode(d, raw, n, tmp, 0, where);
  const nd = box.length;
  const idx = new Array<number>(nd).fill(0);
  for (;;) {
    let s = srcAt;
    let t = dstAt;
    for (let a = 0; a < nd; a++) {
      s += idx[a]! * srcSt[a]!;
      t += idx[a]! * dstSt[a]!;
    }
    into[t] = tmp[s]!;
    let a = nd - 1;
    while (a >= 0 && ++idx[a]! === box[a]) idx[a--] = 0;
    if (a < 0) return;
  }
}

let serial = 0;

/**
 * Writes `data` (C order over the region) as the storage chunk that region (start, shape) is: full size,
 * the part beyond the array's edge holding the fill value, encoded, to a temporary file renamed over it.
 * `encoders`: the worker's (zstd from where the chunk lies); without them, numcodecs'.
 */
export async function writeZarrRegion(sink: ZarrSink, start: readonly number[], shape: readonly number[], data: TypedArray, encoders?: ChunkEncoders): Promise<void> {
  if (sizeOf(shape) === 0) return;
  const d = parseTypestr(sink.typestr, sink.dir);
  const cs = sink.chunkShape;
  const idx = start.map((s, a) => s / cs[a]!);
  if (idx.some((i, a) => !Number.isInteger(i) || shape[a]! > cs[a]! || (shape[a]! < cs[a]! && start[a]! + shape[a]! !== sink.shape[a]))) {
    throw new Error(`internal: region [${start.join(", ")}] + [${shape.join(", ")}] is not one storage chunk of ${sink.dir}`);
  }
  if (sink.perm) throw new Error("internal: tessera writes chunks in C order");
  const file = join(sink.dir, chunkKey(sink.key, idx));
  const n = sizeOf(cs);
  const asStored = shape.every((s, a) => s === cs[a]) && sameBytes(d, data); // the chunk's bytes are the file's
  const raw = asStored ? new Uint8Array(data.buffer, data.byteOffset, n * d.bytes) : null;
  // uncompressed and in the array's own dtype: the chunk's bytes are written from where it was computed
  if (!sink.codecs.length && sameBytes(d, data)) return raw ? writeChunkFile(file, sink.fsync, (fd) => writeAll(fd, raw)) : writePaddedChunk(sink, file, d, shape, data);
  const where = `writing ${file}`;
  const z = sink.codecs.length === 1 && sink.codecs[0]!.id === "zstd" && ownZstdLevel(sink.codecs[0]!.level) ? encoders : undefined;
  // zstd by tessera's encoder: from the kernel memory when the chunk is there as stored, else through the
  // stage of the writer's own memory, part by part
  if (z?.zstdInPlace && raw) return writeChunkFile(file, sink.fsync, (fd) => writeZstdFrame(fd, raw.byteOffset, raw.length, z.zstdInPlace!, file));
  const bytes = raw ? bytesSource(raw) : new StoredChunkBytes(d, data, shape, cs, sink.fill, where);
  if (z?.zstd) return writeChunkFile(file, sink.fsync, (fd) => z.zstd!.write(fd, bytes, file));
  // uncompressed in another dtype: converted part by part into a small buffer, written from there
  if (!sink.codecs.length) return writeChunkFile(file, sink.fsync, (fd) => writeInParts(fd, bytes));
  // numcodecs' codecs take the whole chunk
  const staging = raw ? null : takeStaging(n * d.bytes);
  try {
    const whole = raw ?? staging!.subarray(0, n * d.bytes);
    if (staging) bytes.fill(whole, 0);
    const encoded = await encodeBytes(sink.codecs, whole);
    await writeChunkFile(file, sink.fsync, (fd) => writeAll(fd, encoded));
  } finally {
    if (staging) giveBackStaging(staging);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, done);
}

const PART_BYTES = 1 << 20;
let partBuffer: Buffer | null = null;

/** Writes the bytes `bytes` produces through one reused buffer of PART_BYTES. */
function writeInParts(fd: number, bytes: ByteSource): void {
  const buf = (partBuffer ??= Buffer.allocUnsafeSlow(PART_BYTES));
  for (let at = 0; at < bytes.total; ) {
    const n = Math.min(PART_BYTES, bytes.total - at);
    bytes.fill(buf.subarray(0, n), at);
    for (let done = 0; done < n; ) done += writeSync(fd, buf, done, n - done, at + done);
    at += n;
  }
}

/**
 * An uncompressed edge chunk in the array's own dtype: its rows written from the kernel memory and the
 * padding (the fill value, to the stored chunk's full size) from one small buffer, by writev, so no
 * chunk-sized staging copy is made.
 */
function writePaddedChunk(sink: ZarrSink, file: string, d: DiskDType, shape: readonly number[], data: TypedArray): void | Promise<void> {
  const cs = sink.chunkShape;
  const nd = cs.length;
  const last = cs[nd - 1]!;
  const one = Buffer.alloc(d.bytes);
  encode(d, Float64Array.of(sink.fill), 0, 1, one, `${sink.dir}: fill_value`);
  const pad = Buffer.alloc(last * d.bytes);
  for (let i = 0; i < last; i++) one.copy(pad, i * d.bytes);
  const runs: Uint8Array[] = [];
  const rowLen = shape[nd - 1]! * d.bytes;
  const idx = new Array<number>(Math.max(0, nd - 1)).fill(0);
  let at = 0; // element offset in data (C order over the region)
  for (;;) {
    if (idx.every((v, a) => v < shape[a]!)) {
      if (rowLen) runs.push(new Uint8Array(data.buffer, data.byteOffset + at * d.bytes, rowLen));
      at += shape[nd - 1]!;
      if (rowLen < pad.length) runs.push(pad.subarray(0, pad.length - rowLen));
    } else runs.push(pad);
    let a = nd - 2;
    while (a >= 0 && ++idx[a]! === cs[a]) idx[a--] = 0;
    if (a < 0) break;
  }
  return writeChunkFile(file, sink.fsync, (fd) => writeRunsAt(fd, runs, 0));
}

/**
 * Writes a chunk file through `write(fd)` under a temporary name, then renames it over the chunk: a crash
 * leaves the chunk old or new, never torn. With `fsync` the file is fdatasync'ed before the rename, in the
 * background (storage/durable.ts deferSync: the worker computes on meanwhile; toZarr waits for every
 * worker's before it writes the metadata). IO_ERROR naming the file.
 */
function writeChunkFile(file: string, fsync: boolean, write: (fd: number) => void): void | Promise<void> {
  const tmp = `${file}.tessera-tmp-${process.pid}-${threadId}-${serial++}`;
  let fd = -1;
  try {
    mkdirSync(dirname(file), { recursive: true });
    fd = openSync(tmp, "w");
    write(fd);
    if (fsync) {
      const handed = fd;
      fd = -1;
      return deferSync(handed, tmp, file);
    }
    closeSync(fd);
    fd = -1;
    renameSync(tmp, file);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    if (e instanceof TesseraError) throw e;
    throw new TesseraError("IO_ERROR", `cannot write the chunk ${file}: ${(e as Error).message}`, { cause: e });
  }
}


