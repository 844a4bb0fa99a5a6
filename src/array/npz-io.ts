/**
 * .npz files (np.savez, np.savez_compressed) as lazy ChunkedArrays, one per .npy member. Like numpy's
 * np.load of an .npz (a lazy NpzFile), loadNpz reads only the zip's directory; a member's header is read
 * when the member is first asked for, and its elements by the tasks that need them: stored members by
 * byte ranges per chunk (as loadNpy), deflated members through an inflater kept per worker.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { TesseraError, ValidationError, invalid, show } from "../errors.js";
import { itemsize } from "../dtype.js";
import { newId, type SourceNode } from "../graph/nodes.js";
import { computeDTypeOf } from "../storage/disk-dtype.js";
import { describeNpzMember } from "../storage/npz.js";
import { readZipDirectory, type ZipMember } from "../storage/zip.js";
import { ChunkedArray } from "./chunked.js";
import { normalizeChunks, type ChunkSpec } from "./chunks.js";
import { checkOptions as options, checkPath } from "./options.js";
import { chunksAlongStorageOrder } from "./stored-chunks.js";

type NpzOptions = { chunks?: ChunkSpec };

/**
 * The arrays of an .npz file by name ("x" for member "x.npy"), each a lazy ChunkedArray made when first
 * read from the object; or, given `member`, that one array (NOT_FOUND when the file has no such member).
 * `chunks` applies to every member; by default a stored member is chunked "auto" and a deflated one in
 * blocks of whole rows of about 32 MiB (its bytes can only be inflated in order).
 */
export function loadNpz(path: string, opts?: NpzOptions): Record<string, ChunkedArray>;
export function loadNpz(path: string, member: string, opts?: NpzOptions): ChunkedArray;
export function loadNpz(path: string, a?: string | NpzOptions, b?: NpzOptions): Record<string, ChunkedArray> | ChunkedArray {
  const p = checkPath(path, "loadNpz");
  const one = typeof a === "string" ? a : undefined;
  if (a !== undefined && typeof a !== "string" && (a === null || typeof a !== "object")) {
    throw invalid("INVALID_ARGUMENT", `loadNpz takes a member name or options, got ${show(a)}`);
  }
  const o = options<NpzOptions>(one !== undefined ? b : a, ["chunks"], "loadNpz");
  const { members, stamp } = directory(p);
  const arrays = new Map<string, ZipMember>();
  for (const m of members) if (m.name.endsWith(".npy")) arrays.set(m.name.slice(0, -4), m);
  const open = (name: string, m: ZipMember) => memberArray(p, name, m, stamp, o.chunks);
  if (one !== undefined) {
    const key = one.endsWith(".npy") ? one.slice(0, -4) : one;
    const m = arrays.get(key);
    if (!m) throw new TesseraError("NOT_FOUND", `${p} has no array ${show(one)}; it holds ${[...arrays.keys()].map((k) => show(k)).join(", ") || "none"}`);
    return open(key, m);
  }
  const out = Object.create(null) as Record<string, ChunkedArray>;
  for (const [name, m] of arrays) {
    let made: ChunkedArray | undefined;
    Object.defineProperty(out, name, { enumerable: true, get: () => (made ??= open(name, m)) });
  }
  return out;
}

function directory(p: string): { members: ZipMember[]; stamp: string } {
  let fd: number;
  try {
    fd = openSync(p, "r");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `loadNpz cannot open ${p}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    return { members: readZipDirectory(fd, st.size, p), stamp: `${st.size}:${st.mtimeMs}` };
  } finally {
    closeSync(fd);
  }
}

function memberArray(p: string, name: string, m: ZipMember, stamp: string, chunkSpec: ChunkSpec | undefined): ChunkedArray {
  let fd: number;
  try {
    fd = openSync(p, "r");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `loadNpz cannot open ${p}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (`${st.size}:${st.mtimeMs}` !== stamp) throw new TesseraError("IO_ERROR", `${p} changed since loadNpz read its directory: load it again`);
    const { header, source } = describeNpzMember(fd, st.size, p, m, stamp);
    const dtype = computeDTypeOf(header.dtype);
    let chunks;
    try {
      chunks = chunkSpec !== undefined || source.format === "npy" ? normalizeChunks(chunkSpec, header.shape, itemsize(dtype)) : chunksAlongStorageOrder(header.shape, itemsize(dtype), header.fortran);
    } catch (e) {
      if (e instanceof ValidationError) throw invalid(e.code, `${p} array ${show(name)} of shape [${header.shape.join(", ")}]: ${e.message}`);
      throw e;
    }
    const node: SourceNode = {
      kind: "source", id: newId(), shape: header.shape, dtype, source, chunks, label: `${p}[${name}]`,
      fingerprint: `npz:${p}:${m.name}:${stamp}`,
    };
    return new ChunkedArray(node, chunks);
  } finally {
    closeSync(fd);
  }
}
