/**
 * Zarr metadata, v2 (`.zarray`, `.zattrs`) and v3 (`zarr.json`), read into one plain-data layout that
 * workers decode chunks from, and written back from it. Both formats say the same things in different
 * words: a shape, a regular chunk shape, a dtype, a fill value, how a chunk index becomes a file name,
 * the axis order of a chunk's bytes (v2 `order: "F"`, v3 `transpose`), and bytes-to-bytes codecs.
 *
 * Everything that cannot be read exactly is refused here, when the array is opened: filters, sharding,
 * checksums, unknown codecs (FORMAT_ERROR) and non-numeric dtypes (INVALID_DTYPE), each naming the file.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TesseraError, invalid, show } from "../errors.js";
import { decode, encode, parseTypestr, type DiskDType } from "./disk-dtype.js";
import { v2Compressor, v3BytesCodec, type BytesCodec, codecToV2, codecToV3 } from "./zarr-codecs.js";

/** Where a stored chunk's bytes are, and how they are laid out and compressed (plain data: workers get it). */
export interface ZarrLayout {
  zarrFormat: 2 | 3;
  /** the array's directory */
  dir: string;
  shape: number[];
  /** the storage chunk shape (edge chunks are stored full size) */
  chunkShape: number[];
  /** the dtype on disk, as numpy's type string ("<f8", ">i2", "|b1") */
  typestr: string;
  /** what a missing chunk reads as, already rounded to the disk dtype (NaN and infinities included) */
  fill: number;
  /** the stored chunk is the chunk transposed by `perm` (stored axis i is chunk axis perm[i]); null: C order */
  perm: number[] | null;
  /** bytes-to-bytes codecs in the order they encode */
  codecs: BytesCodec[];
  /** a chunk's file name: [prefix, ...index] joined by the separator ("c/0/1", "0.1", "0/1"); "0" or "c" when 0-d */
  key: { prefix: "c" | null; separator: "." | "/" };
}

/** A stored Zarr array as a task source or sink. */
export interface ZarrSource extends ZarrLayout {
  format: "zarr";
}
/** A Zarr array being written: `fsync`, each chunk file is fdatasync'ed before its rename (storage/durable.ts). */
export interface ZarrSink extends ZarrSource {
  fsync: boolean;
}

/** The file name (relative to the array's directory) of the chunk at block index `idx`. */
export function chunkKey(key: ZarrLayout["key"], idx: readonly number[]): string {
  const parts = key.prefix ? [key.prefix, ...idx.map(String)] : idx.length ? idx.map(String) : ["0"];
  return parts.join(key.separator);
}

const bad = (file: string, why: string): never => {
  throw new TesseraError("FORMAT_ERROR", `${file}: ${why}`);
};

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let v: unknown;
  try {
    // zarr-python writes NaN as "NaN", but numpy-minded writers sometimes emit the bare token
    v = JSON.parse(text.replace(/:\s*(-?)(NaN|Infinity)\b/g, (_m, s: string, w: string) => `: "${s}${w}"`));
  } catch (e) {
    return bad(file, `not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) bad(file, "the metadata is not a JSON object");
  return v as Record<string, unknown>;
}

const sizes = (v: unknown, file: string, what: string, positive: boolean): number[] => {
  if (!Array.isArray(v) || v.some((n) => !Number.isSafeInteger(n) || n < (positive ? 1 : 0))) {
    bad(file, `${what} ${show(v)} is not a list of ${positive ? "positive" : "non-negative"} integers`);
  }
  return v as number[];
};

/** The fill value JSON `v` as the disk dtype holds it (NaN, "Infinity", hex bit patterns; null reads as 0). */
function parseFill(v: unknown, d: DiskDType, file: string): number {
  let x: number;
  if (v === null || v === undefined) x = 0;
  else if (typeof v === "boolean") x = v ? 1 : 0;
  else if (typeof v === "number") x = v;
  else if (v === "NaN") x = NaN;
  else if (v === "Infinity") x = Infinity;
  else if (v === "-Infinity") x = -Infinity;
  else if (typeof v === "string" && /^0x[0-9a-fA-F]+$/.test(v) && d.kind === "f" && v.length === 2 + 2 * d.bytes) {
    // v3: a float's bit pattern, big-endian hex
    const be = parseTypestr(`>f${d.bytes}`, file);
    const bytes = Uint8Array.from(v.slice(2).match(/../g)!.map((h) => parseInt(h, 16)));
    const out = new Float64Array(1);
    decode(be, bytes, 1, out, 0, file);
    return out[0]!;
  } else return bad(file, `fill_value ${show(v)} is not a number for dtype ${d.typestr}`);
  if (d.kind !== "f" && !Number.isFinite(x)) bad(file, `fill_value ${show(v)} is not a value of the integer dtype ${d.typestr}`);
  // round through the disk dtype, so a missing chunk reads as exactly what a stored fill would
  const bytes = new Uint8Array(8);
  const out = new Float64Array(1);
  encode(d, Float64Array.of(x), 0, 1, bytes, `${file}: fill_value`);
  decode(d, bytes, 1, out, 0, `${file}: fill_value`);
  return out[0]!;
}

/** The fill value as JSON for the metadata: NaN and infinities as strings, bools as booleans. */
function fillJson(fill: number, d: DiskDType): unknown {
  if (d.kind === "b") return fill !== 0;
  if (Number.isNaN(fill)) return "NaN";
  if (fill === Infinity) return "Infinity";
  if (fill === -Infinity) return "-Infinity";
  return fill;
}

const V3_NAMES: Record<string, string> = {
  bool: "b1", int8: "i1", uint8: "u1", int16: "i2", uint16: "u2", int32: "i4", uint32: "u4", int64: "i8", uint64: "u8",
  float16: "f2", float32: "f4", float64: "f8",
};
const v3Name = (d: DiskDType): string => Object.keys(V3_NAMES).find((n) => V3_NAMES[n] === `${d.kind}${d.bytes}`)!;

function parseV2(dir: string, m: Record<string, unknown>): ZarrLayout {
  const file = join(dir, ".zarray");
  if (m.zarr_format !== 2) bad(file, `zarr_format ${show(m.zarr_format)} is not 2`);
  const shape = sizes(m.shape, file, "shape", false);
  const chunkShape = sizes(m.chunks, file, "chunks", true);
  if (chunkShape.length !== shape.length) bad(file, `chunks ${show(chunkShape)} and shape ${show(shape)} differ in length`);
  if (Array.isArray(m.dtype)) throw invalid("INVALID_DTYPE", `${file}: structured dtype ${show(m.dtype)} is not supported`);
  const d = parseTypestr(m.dtype, file);
  const order = m.order ?? "C";
  if (order !== "C" && order !== "F") bad(file, `order ${show(order)} is not "C" or "F"`);
  const filters = m.filters;
  if (filters !== null && filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) {
    const ids = Array.isArray(filters) ? filters.map((f) => (f && typeof f === "object" ? (f as { id?: unknown }).id : f)) : [filters];
    bad(file, `filters ${show(ids)} are not supported (tessera reads arrays without filters, as zarr-python writes by default)`);
  }
  const sep = m.dimension_separator ?? ".";
  if (sep !== "." && sep !== "/") bad(file, `dimension_separator ${show(sep)} is not "." or "/"`);
  const codecs = m.compressor === null || m.compressor === undefined ? [] : [v2Compressor(m.compressor, file)];
  const nd = shape.length;
  return {
    zarrFormat: 2, dir, shape, chunkShape, typestr: d.typestr, fill: parseFill(m.fill_value, d, file),
    perm: order === "F" && nd > 1 ? [...Array(nd).keys()].reverse() : null,
    codecs, key: { prefix: null, separator: sep as "." | "/" },
  };
}

function parseV3(dir: string, m: Record<string, unknown>): ZarrLayout {
  const file = join(dir, "zarr.json");
  if (m.zarr_format !== 3) bad(file, `zarr_format ${show(m.zarr_format)} is not 3`);
  if (m.node_type === "group") bad(file, "this is a Zarr group, not an array: pass { path } to an array inside it");
  if (m.node_type !== "array") bad(file, `node_type ${show(m.node_type)} is not "array"`);
  const shape = sizes(m.shape, file, "shape", false);
  const grid = m.chunk_grid as { name?: unknown; configuration?: { chunk_shape?: unknown } } | undefined;
  if (!grid || grid.name !== "regular") bad(file, `chunk_grid ${show(grid)} is not supported (only "regular")`);
  const chunkShape = sizes(grid!.configuration?.chunk_shape, file, "chunk_shape", true);
  if (chunkShape.length !== shape.length) bad(file, `chunk_shape ${show(chunkShape)} and shape ${show(shape)} differ in length`);
  const st = m.storage_transformers;
  if (Array.isArray(st) && st.length) bad(file, `storage_transformers ${show(st)} are not supported`);
  const kind = typeof m.data_type === "string" ? V3_NAMES[m.data_type] : undefined;
  if (!kind) throw invalid("INVALID_DTYPE", `${file}: data_type ${show(m.data_type)} is not supported (numbers and bools only: no complex, strings or extension types)`);
  const kenc = (m.chunk_key_encoding ?? { name: "default" }) as { name?: unknown; configuration?: { separator?: unknown } };
  if (kenc.name !== "default" && kenc.name !== "v2") bad(file, `chunk_key_encoding ${show(kenc.name)} is not "default" or "v2"`);
  const sep = kenc.configuration?.separator ?? (kenc.name === "default" ? "/" : ".");
  if (sep !== "." && sep !== "/") bad(file, `chunk key separator ${show(sep)} is not "." or "/"`);

  // array -> array (transpose)*, array -> bytes (bytes), bytes -> bytes (compressors)
  const codecs = m.codecs;
  if (!Array.isArray(codecs) || codecs.length === 0) bad(file, `codecs ${show(codecs)} is not a non-empty list`);
  const nd = shape.length;
  let perm: number[] | null = null;
  let endian: "little" | "big" | undefined;
  let sawBytes = false;
  const bytesCodecs: BytesCodec[] = [];
  for (const c of codecs as unknown[]) {
    const name = typeof c === "string" ? c : (c as { name?: unknown })?.name;
    const conf = ((c && typeof c === "object" ? (c as { configuration?: unknown }).configuration : undefined) ?? {}) as Record<string, unknown>;
    if (name === "transpose") {
      if (sawBytes) bad(file, "a transpose codec after the bytes codec");
      const o = conf.order;
      const p = o === "C" ? [...Array(nd).keys()] : o === "F" ? [...Array(nd).keys()].reverse() : o;
      if (!Array.isArray(p) || p.length !== nd || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) bad(file, `transpose order ${show(o)} is not a permutation of ${nd} axes`);
      // composing: stored axis i of the second is axis p[i] of the first
      perm = perm ? (p as number[]).map((i) => perm![i]!) : [...(p as number[])];
    } else if (name === "bytes") {
      if (sawBytes) bad(file, "two array-to-bytes codecs");
      sawBytes = true;
      const e = conf.endian;
      if (e !== undefined && e !== "little" && e !== "big") bad(file, `bytes endian ${show(e)} is not "little" or "big"`);
      endian = e as "little" | "big" | undefined;
    } else if (name === "sharding_indexed") {
      bad(file, "sharded arrays (sharding_indexed) are not supported");
    } else {
      if (!sawBytes) bad(file, `codec ${show(name)} comes before the bytes codec (or is not supported)`);
      bytesCodecs.push(v3BytesCodec(name, conf, file));
    }
  }
  if (!sawBytes) bad(file, "no bytes codec (array-to-bytes) in codecs");
  const bytes = Number(kind.slice(1));
  if (bytes > 1 && endian === undefined) bad(file, `the bytes codec of a ${show(m.data_type)} array must say its endian`);
  const d = parseTypestr(`${endian === "big" ? ">" : "<"}${kind}`, file);
  if (perm && perm.every((v, i) => v === i)) perm = null;
  return {
    zarrFormat: 3, dir, shape, chunkShape, typestr: d.typestr, fill: parseFill(m.fill_value, d, file), perm,
    codecs: bytesCodecs, key: { prefix: kenc.name === "default" ? "c" : null, separator: sep as "." | "/" },
  };
}

export interface ZarrMeta {
  layout: ZarrLayout;
  /** the metadata file (.zarray or zarr.json) */
  file: string;
  attributes: Record<string, unknown>;
}

/** What is at a path: an array (v2 or v3), a group, or neither (and whether it exists). */
export function probe(dir: string): "v2" | "v3" | "group" | "none" | "missing" | "file" {
  if (!existsSync(dir)) return "missing";
  if (!statSync(dir).isDirectory()) return "file";
  if (existsSync(join(dir, "zarr.json"))) {
    const m = readJson(join(dir, "zarr.json"));
    return m.node_type === "group" ? "group" : "v3";
  }
  if (existsSync(join(dir, ".zarray"))) return "v2";
  if (existsSync(join(dir, ".zgroup"))) return "group";
  return "none";
}

/** Reads an array's metadata (v3 `zarr.json` first, else v2 `.zarray`): IO_ERROR or FORMAT_ERROR naming the path. */
export function readZarrMeta(dir: string): ZarrMeta {
  const kind = probe(dir);
  if (kind === "missing") throw new TesseraError("IO_ERROR", `${dir} does not exist`);
  if (kind === "file") bad(dir, "a file, not a Zarr array (a directory with .zarray or zarr.json)");
  if (kind === "group") bad(dir, "this is a Zarr group, not an array: pass { path } to an array inside it");
  if (kind === "none") bad(dir, "not a Zarr array: it holds no .zarray or zarr.json");
  if (kind === "v3") {
    const file = join(dir, "zarr.json");
    const m = readJson(file);
    const attrs = m.attributes ?? {};
    if (attrs === null || typeof attrs !== "object" || Array.isArray(attrs)) bad(file, `attributes ${show(attrs)} is not an object`);
    return { layout: parseV3(dir, m), file, attributes: attrs as Record<string, unknown> };
  }
  const file = join(dir, ".zarray");
  return { layout: parseV2(dir, readJson(file)), file, attributes: readAttributes(dir) };
}

/** A node's attributes: v2 `.zattrs` ({} when absent), or v3 `zarr.json`'s `attributes`; arrays and groups alike. */
export function readAttributes(dir: string): Record<string, unknown> {
  const kind = probe(dir);
  if (kind === "missing") throw new TesseraError("IO_ERROR", `${dir} does not exist`);
  if (existsSync(join(dir, "zarr.json"))) {
    const a = readJson(join(dir, "zarr.json")).attributes ?? {};
    if (a === null || typeof a !== "object" || Array.isArray(a)) bad(join(dir, "zarr.json"), `attributes ${show(a)} is not an object`);
    return a as Record<string, unknown>;
  }
  if (kind === "none" || kind === "file") bad(dir, "not a Zarr array or group: it holds no .zarray, .zgroup or zarr.json");
  return existsSync(join(dir, ".zattrs")) ? readJson(join(dir, ".zattrs")) : {};
}

/** The metadata documents of a layout: file name -> JSON text (v2: .zarray and, with attributes, .zattrs). */
export function metadataFiles(l: ZarrLayout, attributes: Record<string, unknown> | undefined): [string, string][] {
  const d = parseTypestr(l.typestr, l.dir);
  const order = l.perm ? "F" : "C";
  if (l.zarrFormat === 2) {
    if (l.perm && !l.perm.every((v, i) => v === l.perm!.length - 1 - i)) throw new Error("internal: v2 holds C or F order only");
    const zarray = {
      chunks: l.chunkShape, compressor: l.codecs.length ? codecToV2(l.codecs[0]!) : null, dimension_separator: l.key.separator,
      dtype: l.typestr, fill_value: fillJson(l.fill, d), filters: null, order, shape: l.shape, zarr_format: 2,
    };
    if (l.codecs.length > 1) throw new Error("internal: v2 holds one compressor");
    const out: [string, string][] = [];
    if (attributes) out.push([".zattrs", JSON.stringify(attributes, null, 4)]);
    out.push([".zarray", JSON.stringify(zarray, null, 4)]);
    return out;
  }
  const codecs: unknown[] = [];
  if (l.perm) codecs.push({ name: "transpose", configuration: { order: l.perm } });
  codecs.push(d.bytes > 1 ? { name: "bytes", configuration: { endian: d.littleEndian ? "little" : "big" } } : { name: "bytes" });
  for (const c of l.codecs) codecs.push(codecToV3(c, d.bytes));
  const doc = {
    zarr_format: 3, node_type: "array", shape: l.shape, data_type: v3Name(d),
    chunk_grid: { name: "regular", configuration: { chunk_shape: l.chunkShape } },
    chunk_key_encoding: l.key.prefix ? { name: "default", configuration: { separator: l.key.separator } } : { name: "v2", configuration: { separator: l.key.separator } },
    fill_value: fillJson(l.fill, d), codecs, attributes: attributes ?? {},
  };
  return [["zarr.json", JSON.stringify(doc, null, 2)]];
}

/** The names metadata of either format may use in an array's directory (removed when an array is replaced). */
export const METADATA_NAMES = [".zarray", ".zattrs", "zarr.json"];

/** A canonical text of everything that decides how chunks are stored (equal texts: chunks are interchangeable). */
export function layoutText(l: ZarrLayout): string {
  const { dir: _dir, ...rest } = l;
  return JSON.stringify(rest, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
}
