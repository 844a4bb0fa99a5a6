/**
 * numpy's .npy format: "\x93NUMPY", a version, a header length (uint16 in 1.0, uint32 in 2.0/3.0), a
 * Python dict literal ({'descr': '<f8', 'fortran_order': False, 'shape': (6,), }) space-padded so the
 * data starts on a 64-byte boundary, then the data, C or Fortran order.
 *
 * Reading is by byte ranges per chunk (a task reads only its region); writing makes the whole file under
 * a temporary name (header, then every chunk's bytes at their offsets, from whichever worker computed it)
 * and renames it into place once everything is written.
 */
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from "node:fs";
import { TesseraError, invalid, show } from "../errors.js";
import type { TypedArray } from "../dtype.js";
import { cStrides, forEachRun, sizeOf } from "../grid.js";
import { decode, encode, parseTypestr, type DiskDType } from "./disk-dtype.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyHeader {
  dtype: DiskDType;
  fortran: boolean;
  shape: number[];
  /** byte offset of the data */
  offset: number;
}

/** Where a task reads an .npy file's elements (plain data: workers open the file themselves). */
export interface NpySource {
  format: "npy";
  path: string;
  offset: number;
  typestr: string;
  fortran: boolean;
  shape: number[];
}
/** An .npy file being written (its temporary name); `fsync`: each region's writes are fdatasync'ed */
export type NpySink = Omit<NpySource, "fortran"> & { fsync: boolean };

/** Parses the header at the start of `head` (its first bytes); FORMAT_ERROR naming the path when it is not one. */
export function parseNpyHeader(head: Uint8Array, path: string, fileBytes: number): NpyHeader {
  const bad = (why: string): never => {
    throw new TesseraError("FORMAT_ERROR", `${path} is not a valid .npy file: ${why}`);
  };
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) bad("it does not start with \\x93NUMPY");
  const major = head[6]!;
  if (major < 1 || major > 3) bad(`format version ${major}.${head[7]} is not 1, 2 or 3`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lenAt = major === 1 ? 8 : 8;
  const hlen = major === 1 ? dv.getUint16(lenAt, true) : head.length >= 12 ? dv.getUint32(lenAt, true) : bad("the header is cut short");
  const start = major === 1 ? 10 : 12;
  if (start + hlen > head.length) bad(`the header claims ${hlen} bytes, more than the file has`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(head.subarray(start, start + hlen));
  const field = (name: string) => new RegExp(`['"]${name}['"]\\s*:\\s*`).exec(text);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  if (!descr) {
    if (field("descr")) throw invalid("INVALID_DTYPE", `${path}: structured dtypes are not supported`);
    bad("the header has no 'descr'");
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortran) bad("the header has no 'fortran_order'");
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shapeM) bad("the header has no 'shape'");
  const shape = shapeM![1]!.split(",").map((s) => s.trim()).filter((s) => s.length).map((s) => {
    const n = Number(s.replace(/L$/, ""));
    return Number.isSafeInteger(n) && n >= 0 ? n : bad(`shape entry ${show(s)} is not a size`);
  });
  const dtype = parseTypestr(descr![1], path);
  const offset = start + hlen;
  const need = offset + sizeOf(shape) * dtype.bytes;
  if (fileBytes < need) bad(`it holds ${fileBytes} bytes, less than the ${need} its header promises (truncated?)`);
  return { dtype, fortran: fortran![1] === "True", shape, offset };
}

/** The header bytes of a C-order .npy file of `shape` and disk dtype (1.0 when it fits, else 2.0). */
export function npyHeader(shape: readonly number[], dtype: DiskDType): Uint8Array {
  const dict = `{'descr': '${dtype.typestr}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const make = (major: number) => {
    const pre = major === 1 ? 10 : 12;
    const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
    const hlen = total - pre;
    const out = new Uint8Array(total);
    out.set(MAGIC);
    out[6] = major;
    out[7] = 0;
    const dv = new DataView(out.buffer);
    if (major === 1) dv.setUint16(8, hlen, true);
    else dv.setUint32(8, hlen, true);
    const body = dict.padEnd(hlen - 1, " ") + "\n";
    for (let i = 0; i < body.length; i++) out[pre + i] = body.charCodeAt(i);
    return out;
  };
  return dict.length + 11 <= 65535 ? make(1) : make(2);
}

/** Reads the elements of region (start, shape) of an .npy file into `into` (C order over the region). */
export function readNpyRegion(src: NpySource, start: readonly number[], shape: readonly number[], into: TypedArray): void {
  const d = parseTypestr(src.typestr, src.path);
  const where = `${src.path} region at [${start.join(", ")}]`;
  const fd = openSync(src.path, "r");
  try {
    if (!src.fortran) {
      let scratch = Buffer.alloc(0);
      forEachRun(src.shape, start, shape, (whole, local, n) => {
        const bytes = n * d.bytes;
        if (scratch.length < bytes) scratch = Buffer.alloc(bytes);
        readFully(fd, scratch, bytes, src.offset + whole * d.bytes, src.path);
        decode(d, scratch.subarray(0, bytes), n, into, local, where);
      });
      return;
    }
    // Fortran order is C order of the reversed axes: read that region, then transpose it into place
    const rev = (a: readonly number[]) => [...a].reverse();
    const tmp = into.constructor === Uint8Array ? new Uint8Array(into.length) : new (into.constructor as new (n: number) => TypedArray)(into.length);
    let scratch = Buffer.alloc(0);
    forEachRun(rev(src.shape), rev(start), rev(shape), (whole, local, n) => {
      const bytes = n * d.bytes;
      if (scratch.length < bytes) scratch = Buffer.alloc(bytes);
      readFully(fd, scratch, bytes, src.offset + whole * d.bytes, src.path);
      decode(d, scratch.subarray(0, bytes), n, tmp, local, where);
    });
    transposeInto(tmp, rev(shape), into);
  } finally {
    closeSync(fd);
  }
}

/** Writes region (start, shape) of `data` (C order over the region) into a C-order .npy file being made. */
export function writeNpyRegion(sink: NpySink, start: readonly number[], shape: readonly number[], data: TypedArray): void {
  const d = parseTypestr(sink.typestr, sink.path);
  const where = `writing ${sink.path} at [${start.join(", ")}]`;
  const fd = openSync(sink.path, "r+");
  try {
    let scratch = Buffer.alloc(0);
    forEachRun(sink.shape, start, shape, (whole, local, n) => {
      const bytes = n * d.bytes;
      if (scratch.length < bytes) scratch = Buffer.alloc(bytes);
      encode(d, data, local, n, scratch, where);
      let done = 0;
      while (done < bytes) done += writeSync(fd, scratch, done, bytes - done, sink.offset + whole * d.bytes + done);
    });
    if (sink.fsync) fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readFully(fd: number, buf: Buffer, bytes: number, position: number, path: string): void {
  let done = 0;
  while (done < bytes) {
    const n = readSync(fd, buf, done, bytes - done, position + done);
    if (n === 0) throw new TesseraError("FORMAT_ERROR", `${path} ends at byte ${position + done}, before the ${bytes} bytes a chunk needs (truncated?)`);
    done += n;
  }
}

/** out (C order over the reverse of `revShape`) = the transpose of src (C order over revShape). */
export function transposeInto(src: TypedArray, revShape: readonly number[], out: TypedArray): void {
  const nd = revShape.length;
  const shape = [...revShape].reverse();
  const srcStrides = cStrides(revShape);
  const idx = new Array<number>(nd).fill(0);
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let d = 0; d < nd; d++) s += idx[d]! * srcStrides[nd - 1 - d]!;
    out[i] = src[s]!;
    for (let d = nd - 1; d >= 0 && ++idx[d]! === shape[d]; d--) idx[d] = 0;
  }
}
