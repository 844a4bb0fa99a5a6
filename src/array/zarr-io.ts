/**
 * Zarr arrays (v2 and v3) on a file system: openZarr reads one lazily (metadata now, chunks in the
 * workers when computed); toZarr writes every chunk from the worker, and under ranks the rank, that
 * computed it, then rank 0 writes the metadata atomically once every chunk is in and the compute succeeded.
 *
 * Attributes are read by zarrAttributes(path) rather than hung on the array: a ChunkedArray is the
 * result of every operation (x.add(1) has no attributes to inherit), so they stay with the file.
 */
import { readdirSync, renameSync, rmSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TesseraError, invalid, isErrorCode, show } from "../errors.js";
import { checkOptions, checkPath } from "./options.js";
import { itemsize } from "../dtype.js";
import { sizeOf } from "../grid.js";
import { topoOrder } from "../graph/contexts.js";
import { lower } from "../graph/lower.js";
import { newId, type SourceNode } from "../graph/nodes.js";
import { allgatherRanks, barrierRanks, computeOnEngine, rankOf } from "../scheduler/compute.js";
import { computeDTypeOf, defaultDiskDType, diskDTypeNamed, parseTypestr } from "../storage/disk-dtype.js";
import { codecOption } from "../storage/zarr-codecs.js";
import { syncDirectory, syncDirectoryTree, writeFileSynced } from "../storage/durable.js";
import { METADATA_NAMES, chunkKey, layoutText, metadataFiles, probe, readAttributes, readZarrMeta, type ZarrLayout, type ZarrSink, type ZarrSource } from "../storage/zarr-meta.js";
import { ChunkedArray } from "./chunked.js";
import { AUTO_CHUNK_BYTES, MAX_CHUNK_BYTES, largestBlock, normalizeChunks, type ChunkSpec } from "./chunks.js";
import { WORKER_ENTRY, checkComputeOptions, type ComputeOptions } from "./compute.js";
import { NDArray } from "./ndarray.js";
import { fromArray } from "./creation.js";

/** toZarr's `codec`: a name with zarr-python's defaults, or a name with settings. */
export type ZarrCodec =
  | "none" | "gzip" | "zlib" | "zstd" | "blosc" | "lz4"
  | { name: "gzip" | "zlib"; level?: number }
  | { name: "zstd"; level?: number }
  | { name: "blosc"; cname?: "lz4" | "lz4hc" | "blosclz" | "zstd" | "zlib"; clevel?: number; shuffle?: "noshuffle" | "shuffle" | "bitshuffle"; blocksize?: number }
  | { name: "lz4"; acceleration?: number };

export interface OpenZarrOptions {
  /** tessera's chunks (default: the storage chunks, or a multiple of them near the "auto" size) */
  chunks?: ChunkSpec;
  /** an array inside a group ("sub/temperature") */
  path?: string;
}

export interface ToZarrOptions extends ComputeOptions {
  /** the Zarr (storage) chunks, regular (default: the array's chunks; irregular ones give their largest block) */
  chunks?: ChunkSpec;
  /** default "none" */
  codec?: ZarrCodec;
  /** 2 (default: every Zarr reader reads it) or 3 */
  format?: 2 | 3;
  /** replace an existing array (default false: ALREADY_EXISTS) */
  overwrite?: boolean;
  /** JSON attributes (.zattrs / zarr.json "attributes") */
  attributes?: Record<string, unknown>;
  /** the dtype on disk (a numpy name such as "uint16", or a type string such as ">f8"; values it cannot hold are refused) */
  dtype?: string;
  /**
   * on disk before it returns (default false: in the page cache, atomic but not durable): every chunk file
   * fdatasync'ed by the worker that wrote it before its rename, then the directories and the metadata synced
   */
  fsync?: boolean;
}

const blocksOf = (n: number, size: number): number[] => {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let s = 0; s < n; s += size) out.push(Math.min(size, n - s));
  return out;
};

/**
 * tessera's default chunks over storage chunks `cs`: the storage chunks, grown by whole multiples (the
 * smallest extent first) while a chunk stays within the "auto" size, so every task reads whole storage
 * chunks (and each storage chunk is read by one task).
 */
export function readChunks(shape: readonly number[], cs: readonly number[], bytes: number): number[][] {
  const nd = shape.length;
  const ext = (d: number, f: number) => Math.max(1, Math.min(shape[d]!, cs[d]! * f));
  const f = new Array<number>(nd).fill(1);
  let size = bytes;
  for (let d = 0; d < nd; d++) size *= ext(d, 1);
  if (size > MAX_CHUNK_BYTES) return normalizeChunks("auto", [...shape], bytes);
  const open = new Set([...Array(nd).keys()].filter((d) => cs[d]! < shape[d]!));
  while (open.size) {
    let d = -1;
    for (const a of open) if (d < 0 || ext(a, f[a]!) < ext(d, f[d]!) || (ext(a, f[a]!) === ext(d, f[d]!) && a > d)) d = a;
    const others = size / ext(d, f[d]!);
    const most = Math.ceil(shape[d]! / cs[d]!);
    const fits = Math.floor(AUTO_CHUNK_BYTES / others / cs[d]!);
    const next = Math.min(most, f[d]! * 2, fits);
    if (next <= f[d]!) {
      open.delete(d);
      continue;
    }
    f[d] = next;
    size = others * ext(d, next);
    if (next === most) open.delete(d);
  }
  // as many blocks as found, but of even size: 3000 over storage chunks of 100 as 1500 + 1500, not 2600 + 400
  return shape.map((n, d) => {
    const stored = Math.ceil(n / cs[d]!);
    const even = Math.ceil(stored / Math.max(1, Math.ceil(stored / f[d]!)));
    return blocksOf(n, Math.max(1, cs[d]! * even));
  });
}

/** A lazy ChunkedArray over a Zarr array (v2 `.zarray` or v3 `zarr.json`), read chunk by chunk when computed. */
export function openZarr(path: string, opts?: OpenZarrOptions): ChunkedArray {
  const root = checkPath(path, "openZarr");
  const o = checkOptions<OpenZarrOptions>(opts, ["chunks", "path"], "openZarr");
  const dir = o.path === undefined ? root : join(root, checkPath(o.path, "openZarr", "option path"));
  const meta = readZarrMeta(dir);
  const l = meta.layout;
  const dtype = computeDTypeOf(parseTypestr(l.typestr, meta.file));
  const chunks = o.chunks === undefined ? readChunks(l.shape, l.chunkShape, itemsize(dtype)) : normalizeChunks(o.chunks, l.shape, itemsize(dtype));
  const source: ZarrSource = { format: "zarr", ...l };
  const st = statSync(meta.file);
  const node: SourceNode = {
    kind: "source", id: newId(), shape: l.shape, dtype, source, chunks, label: dir,
    fingerprint: `zarr:${dir}:${st.size}:${st.mtimeMs}`,
  };
  return new ChunkedArray(node, chunks);
}

/** The attributes of a Zarr array or group (`.zattrs`, or `zarr.json`'s `attributes`; {} when it has none). */
export function zarrAttributes(path: string, opts?: { path?: string }): Record<string, unknown> {
  const root = checkPath(path, "zarrAttributes");
  const o = checkOptions<{ path: string }>(opts, ["path"], "zarrAttributes");
  return readAttributes(o.path === undefined ? root : join(root, checkPath(o.path, "zarrAttributes", "option path")));
}

/** The storage chunk shape: regular Zarr chunks from the option, or from the array's own chunks. */
function storageChunks(spec: ChunkSpec | undefined, a: ChunkedArray): number[] {
  const regular = (blocks: readonly number[]) => blocks.slice(0, -1).every((b) => b === blocks[0]) && blocks[blocks.length - 1]! <= blocks[0]!;
  if (spec === undefined) return a.chunks.map((b) => Math.max(1, regular(b) ? b[0]! : largestBlock(b)));
  const c = normalizeChunks(spec, a.shape, itemsize(a.dtype));
  return c.map((b, d) => {
    if (!regular(b)) throw invalid("INVALID_CHUNKS", `toZarr chunks ${show(spec)} on axis ${d} give blocks ${show(b)}: Zarr chunks are regular (every block the same size but the last)`);
    return Math.max(1, b[0]!);
  });
}

/** What is at the target now, decided by every rank alike (they see the same file system). */
function inspectTarget(dir: string, overwrite: boolean): { old: ZarrLayout | null; isArray: boolean } {
  let kind: ReturnType<typeof probe>;
  try {
    kind = probe(dir);
  } catch (e) {
    if (!(e instanceof TesseraError) || e.code !== "FORMAT_ERROR") throw e;
    kind = "v3"; // an array with unreadable metadata: replaceable, not readable
  }
  const exists = (why: string) => new TesseraError("ALREADY_EXISTS", `toZarr: ${dir} ${why}`);
  if (kind === "missing") return { old: null, isArray: false };
  if (kind === "file") throw exists("is a file, not a directory (tessera does not replace it)");
  if (kind === "group") throw exists("is a Zarr group (tessera does not replace it); write to a path inside it");
  if (kind === "none") {
    if (readdirSync(dir).length === 0 || overwrite) return { old: null, isArray: false };
    throw exists("exists and is not empty (it holds no Zarr metadata); pass { overwrite: true } to write into it");
  }
  if (!overwrite) throw exists("is a Zarr array; pass { overwrite: true } to replace it");
  try {
    return { old: readZarrMeta(dir).layout, isArray: true };
  } catch {
    return { old: null, isArray: true };
  }
}

/** Whether v is made of JSON values only (what JSON.stringify would keep exactly). */
function isJson(v: unknown, depth: number): boolean {
  if (depth > 100) return false;
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (typeof v !== "object" || (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null)) return false;
  return Object.values(v as object).every((x) => isJson(x, depth + 1));
}

/** Runs fn on rank 0 only and gives every rank its outcome: they all return, or all throw rank 0's error. */
async function onRankZero(rank: number, fn: () => void): Promise<void> {
  let err: unknown = null;
  if (rank === 0) {
    try {
      fn();
    } catch (e) {
      err = e;
    }
  }
  const code = (err as { code?: unknown } | null)?.code;
  const msg = rank === 0 ? JSON.stringify(err === null ? { ok: true } : { ok: false, code: isErrorCode(code) ? code : "IO_ERROR", message: String((err as Error)?.message ?? err) }) : "";
  const all = await allgatherRanks(WORKER_ENTRY, new TextEncoder().encode(msg));
  if (rank === 0) {
    if (err !== null) throw err;
    return;
  }
  const r = JSON.parse(new TextDecoder().decode(all[0]!)) as { ok: boolean; code?: string; message?: string };
  if (!r.ok) throw new TesseraError(isErrorCode(r.code) ? r.code : "IO_ERROR", `rank 0: ${r.message}`);
}

function writeAtomically(dir: string, name: string, text: string, fsync: boolean): void {
  const tmp = join(dir, `${name}.tessera-tmp-${process.pid}`);
  try {
    if (fsync) writeFileSynced(tmp, Buffer.from(text));
    else writeFileSync(tmp, text);
    renameSync(tmp, join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new TesseraError("IO_ERROR", `toZarr cannot write ${join(dir, name)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Removes an array's metadata (first: no reader decodes new chunks with it) and its chunk files. */
function removeArray(dir: string, old: ZarrLayout | null): void {
  for (const m of METADATA_NAMES) rmSync(join(dir, m), { force: true });
  if (!old) return;
  const n = old.shape.map((s, d) => Math.ceil(s / old.chunkShape[d]!));
  if (sizeOf(n) === 0) return;
  const idx = new Array<number>(n.length).fill(0);
  for (;;) {
    rmSync(join(dir, chunkKey(old.key, idx)), { force: true });
    let d = n.length - 1;
    while (d >= 0 && ++idx[d]! === n[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}

/**
 * Writes an array as a Zarr array at `path` (a directory; an array inside a group is a path inside it).
 * Each chunk is encoded and written by the worker that computed it, to a temporary name renamed over the
 * chunk file; the metadata follows from rank 0, atomically, once every rank's chunks are in.
 */
export async function toZarr(array: ChunkedArray | NDArray, path: string, opts?: ToZarrOptions): Promise<void> {
  const dir = checkPath(path, "toZarr");
  const o = checkOptions<ToZarrOptions>(opts, ["chunks", "codec", "format", "overwrite", "attributes", "dtype", "fsync", "workers", "progress", "signal"], "toZarr");
  const format = o.format ?? 2;
  if (format !== 2 && format !== 3) throw invalid("INVALID_ARGUMENT", `toZarr format ${show(o.format)} must be 2 or 3`);
  if (o.overwrite !== undefined && typeof o.overwrite !== "boolean") throw invalid("INVALID_ARGUMENT", `toZarr overwrite ${show(o.overwrite)} must be true or false`);
  if (o.fsync !== undefined && typeof o.fsync !== "boolean") throw invalid("INVALID_ARGUMENT", `toZarr fsync ${show(o.fsync)} must be true or false`);
  const fsync = o.fsync === true;
  const a = array instanceof NDArray ? fromArray(array) : array;
  if (!(a instanceof ChunkedArray)) throw invalid("INVALID_ARGUMENT", `toZarr takes a ChunkedArray or an NDArray, got ${show(array)}`);
  const attributes = o.attributes;
  if (attributes !== undefined && !(isJson(attributes, 0) && typeof attributes === "object" && !Array.isArray(attributes) && attributes !== null)) {
    throw invalid("INVALID_ARGUMENT", `toZarr attributes ${show(attributes)} must be a plain object of JSON values (strings, finite numbers, booleans, null, arrays, objects)`);
  }
  // replacing an array while reading it would read chunks already replaced (or removed)
  if (topoOrder([a.node]).some((n) => n.kind === "source" && n.source.format === "zarr" && resolve(n.source.dir) === resolve(dir))) {
    throw invalid("INVALID_ARGUMENT", `toZarr cannot write ${dir} while computing from it: write to another path, then rename it`);
  }
  const disk = o.dtype === undefined ? defaultDiskDType(a.dtype) : diskDTypeNamed(o.dtype, "toZarr");
  const layout: ZarrLayout = {
    zarrFormat: format, dir, shape: [...a.shape], chunkShape: storageChunks(o.chunks, a), typestr: disk.typestr, fill: 0, perm: null,
    codecs: codecOption(o.codec, format), key: format === 2 ? { prefix: null, separator: "." } : { prefix: "c", separator: "/" },
  };
  const { workers, progress, signal } = o;
  const computeOpts = checkComputeOptions({ ...(workers !== undefined ? { workers } : {}), ...(progress !== undefined ? { progress } : {}), ...(signal ? { signal } : {}) });

  const target = inspectTarget(dir, o.overwrite === true);
  // chunks of the same layout replace the old ones one by one (each old or new); any other array goes first
  const inPlace = target.old !== null && layoutText(target.old) === layoutText(layout);
  const { rank } = await rankOf(WORKER_ENTRY);
  await barrierRanks(WORKER_ENTRY); // every rank has looked before rank 0 changes anything
  await onRankZero(rank, () => {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new TesseraError("IO_ERROR", `toZarr cannot make ${dir}: ${(e as Error).message}`, { cause: e });
    }
    if (target.isArray && !inPlace) removeArray(dir, target.old);
  });

  const sink: ZarrSink = { format: "zarr", ...layout, fsync };
  const chunks = layout.chunkShape.map((c, d) => blocksOf(a.shape[d]!, c));
  // with fsync, each chunk's sync runs in the background of its worker; the compute ends once all are done
  await computeOnEngine(WORKER_ENTRY, { lower: (hashInputs) => lower([{ node: a.node, chunks, sink }], { hashInputs }) }, {
    workers: computeOpts.workers,
    signal: computeOpts.signal,
    onProgress: typeof computeOpts.progress === "function" ? computeOpts.progress : undefined,
  }, fsync ? "writes" : "on-failure");
  await barrierRanks(WORKER_ENTRY); // every rank's chunks are in
  await onRankZero(rank, () => {
    if (format === 2 && attributes === undefined) rmSync(join(dir, ".zattrs"), { force: true });
    if (fsync) syncDirectoryTree(dir); // the chunks' renames on disk before the metadata that describes them
    for (const [name, text] of metadataFiles(layout, attributes)) writeAtomically(dir, name, text, fsync);
    if (fsync) syncDirectory(dir);
  });
}
