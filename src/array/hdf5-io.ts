/**
 * HDF5 datasets as lazy ChunkedArrays: openHdf5 reads the dataset's description (shape, type, storage
 * chunks) and each task reads its region as a hyperslab in a worker. It is async because h5wasm's
 * WebAssembly module instantiates asynchronously (its Emscripten factory returns a Promise), and it is
 * loaded only when a program first opens an HDF5 file.
 */
import { itemsize } from "../dtype.js";
import { invalid, show } from "../errors.js";
import { newId, type SourceNode } from "../graph/nodes.js";
import { computeDTypeOf } from "../storage/disk-dtype.js";
import { describeHdf5 } from "../storage/hdf5.js";
import { ChunkedArray } from "./chunked.js";
import { normalizeChunks, type ChunkSpec } from "./chunks.js";
import { checkOptions as options, checkPath } from "./options.js";
import { chunksOverStorage } from "./stored-chunks.js";

/**
 * A lazy ChunkedArray over dataset `dataset` ("/group/name") of the HDF5 file at `path`. `chunks`:
 * default, multiples of the dataset's storage chunks of about 32 MiB (or "auto" for a contiguous
 * dataset); any ChunkSpec otherwise (chunks that cut storage chunks make libhdf5 decode those twice).
 */
export async function openHdf5(path: string, dataset: string, opts?: { chunks?: ChunkSpec }): Promise<ChunkedArray> {
  const p = checkPath(path, "openHdf5");
  if (typeof dataset !== "string" || dataset === "") throw invalid("INVALID_ARGUMENT", `openHdf5 dataset ${show(dataset)} must be a non-empty string such as "/group/name"`);
  const o = options<{ chunks: ChunkSpec }>(opts, ["chunks"], "openHdf5");
  const h = await describeHdf5(p, dataset);
  const dtype = computeDTypeOf(h.dtype);
  const { shape } = h.source;
  const chunks =
    o.chunks !== undefined ? normalizeChunks(o.chunks, shape, itemsize(dtype)) : h.chunks ? chunksOverStorage(shape, h.chunks, itemsize(dtype)) : normalizeChunks("auto", shape, itemsize(dtype));
  const node: SourceNode = {
    kind: "source", id: newId(), shape, dtype, source: h.source, chunks, label: `${p}:${h.source.dataset}`,
    fingerprint: `hdf5:${p}:${h.source.dataset}:${h.source.stamp}`,
  };
  return new ChunkedArray(node, chunks);
}
