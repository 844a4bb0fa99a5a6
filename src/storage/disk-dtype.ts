/**
 * Dtypes on disk, as numpy's type strings ("<f8", ">i2", "|b1", "<u8", "<f2"...), and their conversion to
 * and from tessera's compute dtypes, losslessly: int8/uint8/int16/uint16 read as int32, float16 as
 * float32, uint32/int64/uint64 as float64 (exact: a value beyond 2^53 is DTYPE_OVERFLOW, never rounded).
 * Writing in a narrower dtype than the array's refuses values it cannot hold.
 */
import { TesseraError, invalid, show } from "../errors.js";
import type { DType, TypedArray } from "../dtype.js";

export interface DiskDType {
  /** numpy's kind: b (bool), i (signed), u (unsigned), f (float) */
  kind: "b" | "i" | "u" | "f";
  bytes: number;
  littleEndian: boolean;
  /** numpy's type string, e.g. "<f8" */
  typestr: string;
}

/** Parses a numpy type string; complex, strings, objects and datetimes are INVALID_DTYPE naming it. */
export function parseTypestr(t: unknown, where: string): DiskDType {
  const m = typeof t === "string" ? /^([<>|=]?)([biuf])(\d+)$/.exec(t) : null;
  if (!m) throw invalid("INVALID_DTYPE", `${where}: dtype ${show(t)} is not supported (numbers and bools only: no complex, strings or objects)`);
  const kind = m[2] as DiskDType["kind"];
  const bytes = Number(m[3]);
  const ok = kind === "b" ? bytes === 1 : kind === "f" ? [2, 4, 8].includes(bytes) : [1, 2, 4, 8].includes(bytes);
  if (!ok) throw invalid("INVALID_DTYPE", `${where}: dtype ${show(t)} is not supported`);
  const littleEndian = m[1] !== ">";
  return { kind, bytes, littleEndian, typestr: `${bytes === 1 ? "|" : littleEndian ? "<" : ">"}${kind}${bytes}` };
}

/** The compute dtype a disk dtype is read into (losslessly). */
export function computeDTypeOf(d: DiskDType): DType {
  if (d.kind === "b") return "bool";
  if (d.kind === "f") return d.bytes === 8 ? "float64" : "float32";
  if (d.kind === "i") return d.bytes <= 4 ? (d.bytes === 4 ? "int32" : "int32") : "float64";
  return d.bytes <= 2 ? "int32" : "float64";
}

/** The disk dtype an array of compute dtype d is written as by default (little endian). */
export function defaultDiskDType(d: DType): DiskDType {
  return parseTypestr({ float64: "<f8", float32: "<f4", int32: "<i4", bool: "|b1" }[d], "write");
}

/** numpy names ("uint16", "float32"...) to type strings; type strings pass through. */
export function diskDTypeNamed(name: unknown, where: string): DiskDType {
  const names: Record<string, string> = {
    bool: "|b1", int8: "|i1", uint8: "|u1", int16: "<i2", uint16: "<u2", int32: "<i4", uint32: "<u4",
    int64: "<i8", uint64: "<u8", float16: "<f2", float32: "<f4", float64: "<f8",
  };
  return parseTypestr(typeof name === "string" ? (names[name] ?? name) : name, where);
}

/** numpy's name of a disk dtype ("int16", "float64"...). */
export const numpyName = (d: DiskDType): string => (d.kind === "b" ? "bool" : `${{ i: "int", u: "uint", f: "float" }[d.kind]}${d.bytes * 8}`);

const f16 = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
};

const toF16 = (v: number): number => {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (man | 0x800000) >> (1 - e);
    return sign | ((m + 0x1000 + ((m >> 13) & 1) - 1) >> 13);
  }
  const r = man + 0xfff + ((man >> 13) & 1);
  if (r & 0x800000) {
    e++;
    if (e >= 31) return sign | 0x7c00;
    return sign | (e << 10);
  }
  return sign | (e << 10) | (r >> 13);
};

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether disk dtype d has the byte layout of `out`'s elements (float64, float32, int32). */
const sameLayout = (d: DiskDType, out: TypedArray): boolean =>
  d.kind === "f" ? (d.bytes === 8 ? out instanceof Float64Array : d.bytes === 4 && out instanceof Float32Array) : d.kind === "i" && d.bytes === 4 && out instanceof Int32Array;

/**
 * Decodes n elements of disk dtype d from `bytes` into `out` starting at element `at`. `where` names the
 * chunk in a DTYPE_OVERFLOW error (a 64-bit integer beyond 2^53 cannot be held exactly).
 */
export function decode(d: DiskDType, bytes: Uint8Array, n: number, out: TypedArray, at: number, where: string): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = d.littleEndian;
  const w = d.bytes;
  if (le === HOST_LE && bytes.byteOffset % w === 0 && sameLayout(d, out)) {
    // the compute dtype's own layout: one copy (about 4x the element loop below)
    const C = out.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
    out.set(new C(bytes.buffer, bytes.byteOffset, n), at);
    return;
  }
  if (d.kind === "b") {
    for (let i = 0; i < n; i++) out[at + i] = bytes[i] !== 0 ? 1 : 0;
    return;
  }
  if (d.kind === "f") {
    if (w === 8) for (let i = 0; i < n; i++) out[at + i] = dv.getFloat64(i * 8, le);
    else if (w === 4) for (let i = 0; i < n; i++) out[at + i] = dv.getFloat32(i * 4, le);
    else for (let i = 0; i < n; i++) out[at + i] = f16(dv.getUint16(i * 2, le));
    return;
  }
  const signed = d.kind === "i";
  if (w === 1) for (let i = 0; i < n; i++) out[at + i] = signed ? dv.getInt8(i) : dv.getUint8(i);
  else if (w === 2) for (let i = 0; i < n; i++) out[at + i] = signed ? dv.getInt16(i * 2, le) : dv.getUint16(i * 2, le);
  else if (w === 4) for (let i = 0; i < n; i++) out[at + i] = signed ? dv.getInt32(i * 4, le) : dv.getUint32(i * 4, le);
  else {
    for (let i = 0; i < n; i++) {
      const v = signed ? dv.getBigInt64(i * 8, le) : dv.getBigUint64(i * 8, le);
      const x = Number(v);
      if (!Number.isSafeInteger(x)) {
        throw new TesseraError("DTYPE_OVERFLOW", `${where}: the ${numpyName(d)} value ${v} does not fit a float64 exactly (beyond 2^53)`);
      }
      out[at + i] = x;
    }
  }
}

/** Encodes n elements of `src` from `at` as disk dtype d into `bytes`; values d cannot hold are refused. */
export function encode(d: DiskDType, src: TypedArray, at: number, n: number, bytes: Uint8Array, where: string): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = d.littleEndian;
  const w = d.bytes;
  if (d.kind === "b") {
    for (let i = 0; i < n; i++) bytes[i] = src[at + i] !== 0 ? 1 : 0;
    return;
  }
  if (d.kind === "f") {
    if (w === 8) for (let i = 0; i < n; i++) dv.setFloat64(i * 8, src[at + i]!, le);
    else if (w === 4) for (let i = 0; i < n; i++) dv.setFloat32(i * 4, src[at + i]!, le);
    else for (let i = 0; i < n; i++) dv.setUint16(i * 2, toF16(src[at + i]!), le);
    return;
  }
  const signed = d.kind === "i";
  const lo = signed ? -(2 ** (8 * w - 1)) : 0;
  const hi = signed ? 2 ** (8 * w - 1) - 1 : 2 ** (8 * w) - 1;
  for (let i = 0; i < n; i++) {
    const v = src[at + i]!;
    if (!(v >= lo && v <= hi) || !Number.isInteger(v)) {
      throw new TesseraError("DTYPE_OVERFLOW", `${where}: the value ${v} does not fit ${numpyName(d)}`);
    }
    if (w === 1) bytes[i] = v & 0xff;
    else if (w === 2) dv.setUint16(i * 2, v & 0xffff, le);
    else if (w === 4) (signed ? dv.setInt32(i * 4, v, le) : dv.setUint32(i * 4, v, le));
    else signed ? dv.setBigInt64(i * 8, BigInt(v), le) : dv.setBigUint64(i * 8, BigInt(v), le);
  }
}
