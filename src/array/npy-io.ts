/**
 * .npy files: loadNpy reads lazily (each task reads its chunk's byte ranges), saveNpy writes from every
 * worker and rank that computed a chunk, into a file made whole under a temporary name and renamed into
 * place only once every chunk is written (a failed compute leaves the old file, or none, untouched).
 */
import { closeSync, existsSync, fdatasyncSync, fstatSync, openSync, readSync, renameSync, rmSync, statSync, writeSync, ftruncateSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { syncDirectory } from "../storage/durable.js";
import { TesseraError, invalid, show } from "../errors.js";
import { checkOptions, checkPath } from "./options.js";
import { itemsize } from "../dtype.js";
import { sizeOf } from "../grid.js";
import { lower } from "../graph/lower.js";
import { newId, type SourceNode } from "../graph/nodes.js";
import { barrierRanks, computeOnEngine, rankOf } from "../scheduler/compute.js";
import { computeDTypeOf, defaultDiskDType, diskDTypeNamed } from "../storage/disk-dtype.js";
import { npyHeader, parseNpyHeader, type NpySink, type NpySource } from "../storage/npy.js";
import { ChunkedArray } from "./chunked.js";
import { normalizeChunks, type ChunkSpec } from "./chunks.js";
import { WORKER_ENTRY, checkComputeOptions, type ComputeOptions } from "./compute.js";
import { NDArray } from "./ndarray.js";
import { fromArray } from "./creation.js";

/** A lazy ChunkedArray over an .npy file (C or Fortran order), read chunk by chunk when computed. */
export function loadNpy(path: string, opts?: { chunks?: ChunkSpec }): ChunkedArray {
  const p = checkPath(path, "loadNpy");
  const o = checkOptions<{ chunks: ChunkSpec }>(opts, ["chunks"], "loadNpy");
  let fd: number;
  try {
    fd = openSync(p, "r");
  } catch (e) {
    throw new TesseraError("IO_ERROR", `loadNpy cannot open ${p}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    readSync(fd, head, 0, head.length, 0);
    const h = parseNpyHeader(head, p, size);
    const dtype = computeDTypeOf(h.dtype);
    const chunks = normalizeChunks(o.chunks, h.shape, itemsize(dtype));
    const source: NpySource = { format: "npy", path: p, offset: h.offset, typestr: h.dtype.typestr, fortran: h.fortran, shape: h.shape };
    const st = statSync(p);
    const node: SourceNode = {
      kind: "source", id: newId(), shape: h.shape, dtype, source, chunks, label: p,
      fingerprint: `npy:${p}:${st.size}:${st.mtimeMs}`,
    };
    return new ChunkedArray(node, chunks);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes an array to an .npy file (format 1.0, or 2.0 when the header needs it; C order). `dtype`: the
 * dtype on disk (a numpy name such as "uint16"; values it cannot hold are refused); `overwrite`: replace
 * an existing file (default false: it is refused). Every rank writes the chunks it computed.
 */
export async function saveNpy(array: ChunkedArray | NDArray, path: string, opts?: { dtype?: string; overwrite?: boolean; fsync?: boolean } & ComputeOptions): Promise<void> {
  const p = checkPath(path, "saveNpy");
  const o = checkOptions<{ dtype: string; overwrite: boolean; fsync: boolean } & ComputeOptions>(opts, ["dtype", "overwrite", "fsync", "workers", "progress", "signal"], "saveNpy");
  if (o.overwrite !== undefined && typeof o.overwrite !== "boolean") throw invalid("INVALID_ARGUMENT", `saveNpy overwrite ${show(o.overwrite)} must be true or false`);
  if (o.fsync !== undefined && typeof o.fsync !== "boolean") throw invalid("INVALID_ARGUMENT", `saveNpy fsync ${show(o.fsync)} must be true or false`);
  const fsync = o.fsync === true;
  const a = array instanceof NDArray ? fromArray(array) : array;
  if (!(a instanceof ChunkedArray)) throw invalid("INVALID_ARGUMENT", `saveNpy takes a ChunkedArray or an NDArray, got ${show(array)}`);
  const disk = o.dtype === undefined ? defaultDiskDType(a.dtype) : diskDTypeNamed(o.dtype, "saveNpy");
  const { workers, progress, signal } = o;
  const computeOpts = checkComputeOptions({ ...(workers !== undefined ? { workers } : {}), ...(progress !== undefined ? { progress } : {}), ...(signal ? { signal } : {}) });
  if (!o.overwrite && existsSync(p)) throw new TesseraError("ALREADY_EXISTS", `saveNpy: ${p} exists; pass { overwrite: true } to replace it`);
  const header = npyHeader(a.shape, disk);
  // the same name on every rank (they all write into it); rank 0 makes it, renames it, or removes it
  const tmp = `${p}.tessera-partial`;
  const { rank } = await rankOf(WORKER_ENTRY);
  if (rank === 0) {
    let fd: number;
    try {
      fd = openSync(tmp, "w", 0o644);
    } catch (e) {
      throw new TesseraError("IO_ERROR", `saveNpy cannot create ${tmp}: ${(e as Error).message}`, { cause: e });
    }
    try {
      writeSync(fd, header, 0, header.length, 0);
      ftruncateSync(fd, header.length + sizeOf(a.shape) * disk.bytes);
      if (fsync) fdatasyncSync(fd); // (the header; every region's writer syncs its own bytes)
    } finally {
      closeSync(fd);
    }
  }
  const sink: NpySink = { format: "npy", path: tmp, offset: header.length, typestr: disk.typestr, shape: a.shape, fsync };
  let ok = false;
  try {
    await computeOnEngine(WORKER_ENTRY, { lower: (hashInputs) => lower([{ node: a.node, chunks: a.chunks, sink }], { hashInputs }) }, {
      workers: computeOpts.workers,
      signal: computeOpts.signal,
      onProgress: typeof computeOpts.progress === "function" ? computeOpts.progress : undefined,
    }, "on-failure");
    await barrierRanks(WORKER_ENTRY); // every rank's chunks are in the file
    ok = true;
  } finally {
    if (rank === 0) {
      if (ok) {
        renameSync(tmp, p);
        if (fsync) syncDirectory(dirname(resolve(p)));
      } else rmSync(tmp, { force: true });
    }
  }
}
