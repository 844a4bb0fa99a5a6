/**
 * numpy's .npz: a zip of .npy members ("x.npy" holds the array named "x"). np.savez stores members
 * uncompressed: such a member is an .npy file at an offset inside the zip, read by byte ranges per chunk
 * as loadNpy reads (its source is an NpySource). np.savez_compressed deflates them: a deflated member is
 * read through an inflate cursor kept per worker (inflate-cursor.ts), so tasks that read it in order cost
 * one pass over the member per worker, and nothing holds the whole member in memory.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { inflateRawSync, constants as zc } from "node:zlib";
import { TesseraError, show } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { forEachRun, sizeOf } from "../grid.js";
import { decode, parseTypestr, type DiskDType } from "./disk-dtype.js";
import { InflateCursor } from "./inflate-cursor.js";
import { parseNpyHeader, transposeInto, type NpyHeader, type NpySource } from "./npy.js";
import { memberDataOffset, type ZipMember } from "./zip.js";

/** Where a task reads a deflated member's elements. */
export interface NpzSource {
  format: "npz";
  path: string;
  /** the member's name in the zip ("x.npy") */
  member: string;
  /** the compressed data: its offset in the file and its length */
  start: number;
  compressedSize: number;
  /** where the array's data starts in the inflated member (after its .npy header) */
  offset: number;
  typestr: string;
  fortran: boolean;
  shape: number[];
  /** the file's size and modification time when it was opened (a kept inflater is not reused across a change) */
  stamp: string;
}

/** What a member holds: its .npy header, and where tasks read it from. */
export interface NpzMember {
  header: NpyHeader;
  source: NpySource | NpzSource;
}

/** Reads the .npy header of member `m` of the zip open as `fd` and says where its elements are. */
export function describeNpzMember(fd: number, fileSize: number, path: string, m: ZipMember, stamp: string): NpzMember {
  const where = `${path} member ${show(m.name)}`;
  if (m.flags & 1) throw new TesseraError("FORMAT_ERROR", `${where} is encrypted`);
  if (m.method !== 0 && m.method !== 8) {
    const known: Record<number, string> = { 12: "bzip2", 14: "lzma", 93: "zstd" };
    throw new TesseraError("FORMAT_ERROR", `${where} is compressed with zip method ${m.method}${known[m.method] ? ` (${known[m.method]})` : ""}; only stored and deflated members are read (np.savez, np.savez_compressed)`);
  }
  const start = memberDataOffset(fd, m, fileSize, path);
  if (m.method === 0) {
    if (m.compressedSize !== m.size) throw new TesseraError("FORMAT_ERROR", `${where} is stored, yet its sizes differ (${m.compressedSize} and ${m.size})`);
    const head = Buffer.alloc(Math.min(m.size, 1 << 20));
    readFully(fd, head, start, where);
    const header = parseNpyHeader(head, where, m.size);
    return { header, source: { format: "npy", path, offset: start + header.offset, typestr: header.dtype.typestr, fortran: header.fortran, shape: header.shape } };
  }
  const header = parseNpyHeader(inflateHead(fd, start, m, where), where, m.size);
  return {
    header,
    source: {
      format: "npz", path, member: m.name, start, compressedSize: m.compressedSize, offset: header.offset,
      typestr: header.dtype.typestr, fortran: header.fortran, shape: header.shape, stamp,
    },
  };
}

/** The first bytes of a deflated member, enough to hold its .npy header (read a little compressed data at a time). */
function inflateHead(fd: number, start: number, m: ZipMember, where: string): Uint8Array {
  for (let take = 4096; ; take *= 4) {
    const k = Math.min(take, m.compressedSize);
    const input = Buffer.alloc(k);
    readFully(fd, input, start, where);
    let out: Buffer;
    try {
      out = inflateRawSync(input, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch (e) {
      throw new TesseraError("FORMAT_ERROR", `${where} is damaged: inflate failed (${(e as Error).message})`, { cause: e });
    }
    // the header's length is in its first 10 (version 1) or 12 bytes
    if (out.length >= 12) {
      const need = out[6] === 1 ? 10 + out.readUInt16LE(8) : 12 + out.readUInt32LE(8);
      if (out.length >= need) return out.subarray(0, need);
    }
    if (k === m.compressedSize) return out; // all of it: parseNpyHeader says what is missing
  }
}

function readFully(fd: number, buf: Buffer, at: number, where: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, at + done);
    if (n === 0) throw new TesseraError("FORMAT_ERROR", `${where} ends at byte ${at + done} of the file (truncated?)`);
    done += n;
  }
}

// ---- reading regions of deflated members, with inflaters kept per thread ----

const SLICE = 1 << 20; // decoded at a time (a multiple of every element size)
const KEEP_CURSORS = 4;
/** how long an unused inflater is kept (an object so that tests can shorten it) */
export const cursorKeeping = { ms: 2000 };

interface Kept {
  cursor: InflateCursor;
  /** reads using it now (it is neither dropped nor timed out meanwhile) */
  busy: number;
  timer?: ReturnType<typeof setTimeout>;
}
const cursors = new Map<string, Kept>();

const keyOf = (src: NpzSource): string => `${src.path}\0${src.member}\0${src.stamp}\0${src.start}`;

/** The kept inflater of `src` (or a new one), marked busy until `done(key)`. */
function take(src: NpzSource): Kept {
  const key = keyOf(src);
  let k = cursors.get(key);
  if (k) {
    cursors.delete(key); // re-inserted below: the map's order is the order of last use
    clearTimeout(k.timer);
  } else {
    for (const [other, o] of cursors) if (cursors.size >= KEEP_CURSORS && o.busy === 0) drop(other);
    k = { cursor: new InflateCursor(src.start, src.compressedSize, `${src.path} member ${show(src.member)}`), busy: 0 };
  }
  k.busy++;
  cursors.set(key, k);
  return k;
}

/** A read is done with `k`: once none uses it, it is dropped after cursorKeeping.ms unused. */
function done(key: string, k: Kept): void {
  if (--k.busy > 0 || cursors.get(key) !== k) return;
  k.timer = setTimeout(() => drop(key), cursorKeeping.ms);
  k.timer.unref();
}

function drop(key: string): void {
  const k = cursors.get(key);
  if (!k || k.busy > 0) return;
  cursors.delete(key);
  clearTimeout(k.timer);
  k.cursor.close();
}

/** Reads region (start, shape) of a deflated member into `into` (C order over the region). */
export async function readNpzRegion(src: NpzSource, start: readonly number[], shape: readonly number[], into: TypedArray): Promise<void> {
  if (sizeOf(shape) === 0) return;
  const d = parseTypestr(src.typestr, src.path);
  const where = `${src.path} member ${show(src.member)} region at [${start.join(", ")}]`;
  // Fortran order is C order of the reversed axes: read that region, then transpose it into place
  const rev = (a: readonly number[]) => (src.fortran ? [...a].reverse() : [...a]);
  const target = src.fortran ? new (into.constructor as new (n: number) => TypedArray)(into.length) : into;
  const runs: number[] = [];
  forEachRun(rev(src.shape), rev(start), rev(shape), (whole, local, n) => void runs.push(whole, local, n));
  const key = keyOf(src);
  const kept = take(src);
  try {
    await kept.cursor.exclusive(() => readRuns(src, d, runs, target, kept.cursor, where));
  } finally {
    done(key, kept);
  }
  if (src.fortran) transposeInto(target, rev(shape), into);
}

/** Inflates the byte runs (whole, local, n triples) of a region and decodes them into `target`. */
async function readRuns(src: NpzSource, d: DiskDType, runs: number[], target: TypedArray, cursor: InflateCursor, where: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(src.path, "r");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `${src.path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (`${st.size}:${st.mtimeMs}` !== src.stamp) {
      throw new TesseraError("IO_ERROR", `${src.path} changed since it was opened (size:mtime ${src.stamp}, now ${st.size}:${st.mtimeMs}): open it again`);
    }
    const scratch = new Uint8Array(Math.min(SLICE, largestRun(runs) * d.bytes));
    for (let r = 0; r < runs.length; r += 3) {
      let byte = src.offset + runs[r]! * d.bytes;
      let local = runs[r + 1]!;
      let left = runs[r + 2]! * d.bytes;
      while (left > 0) {
        const k = Math.min(left, scratch.length);
        await cursor.read(fd, byte, k, scratch);
        decode(d, scratch.subarray(0, k), k / d.bytes, target, local, where);
        byte += k;
        local += k / d.bytes;
        left -= k;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function largestRun(runs: number[]): number {
  let m = 0;
  for (let r = 2; r < runs.length; r += 3) if (runs[r]! > m) m = runs[r]!;
  return m;
}
