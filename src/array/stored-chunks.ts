/**
 * Default chunks of arrays read from files. Over chunked storage (HDF5 chunks, Zarr chunks): a multiple
 * of the storage chunk on every axis, so a task decodes whole storage chunks and no storage chunk is
 * decoded by two tasks, grown (doubling the axis whose multiple is smallest, ties to the last axis) while
 * the chunk stays within AUTO_CHUNK_BYTES: storage chunks are often far smaller than a good task (h5py
 * picks chunks of tens of KiB to 1 MiB). Over a stream that can only be read forward (a deflated .npz
 * member): blocks of whole rows in the order the bytes are stored, near AUTO_CHUNK_BYTES.
 */
import { AUTO_CHUNK_BYTES, normalizeChunks, type Chunks } from "./chunks.js";

/** Chunks that are multiples of `storage` (per axis) holding about AUTO_CHUNK_BYTES of `itemsize` elements. */
export function chunksOverStorage(shape: readonly number[], storage: readonly number[], itemsize: number): Chunks {
  const size = shape.map((n, d) => Math.max(1, Math.min(n, storage[d] ?? n)));
  const bytes = () => size.reduce((a, s) => a * s, itemsize);
  for (;;) {
    let pick = -1;
    for (let d = size.length - 1; d >= 0; d--) {
      if (size[d]! >= shape[d]!) continue;
      if (pick < 0 || size[d]! / (storage[d] ?? 1) < size[pick]! / (storage[pick] ?? 1)) pick = d;
    }
    if (pick < 0) break;
    const grown = Math.min(shape[pick]!, size[pick]! * 2);
    if ((bytes() / size[pick]!) * grown > AUTO_CHUNK_BYTES) break;
    size[pick] = grown;
  }
  return normalizeChunks(size.map((s, d) => (shape[d] === 0 ? -1 : s)), shape, itemsize);
}

/**
 * Chunks of whole trailing axes (C order; leading axes for Fortran order), so each chunk is one run of
 * bytes in storage order, of about AUTO_CHUNK_BYTES: the axis that is cut is the outermost whose inner
 * rows still fit.
 */
export function chunksAlongStorageOrder(shape: readonly number[], itemsize: number, fortran: boolean): Chunks {
  const nd = shape.length;
  const order = fortran ? [...Array(nd).keys()] : [...Array(nd).keys()].reverse(); // innermost axis first
  const size = shape.map(() => 1);
  let bytes = itemsize;
  for (const d of order) {
    const n = Math.max(1, shape[d]!);
    if (bytes * n <= AUTO_CHUNK_BYTES) {
      size[d] = n;
      bytes *= n;
      continue;
    }
    // as many rows as fit, in blocks of even size (2000 rows of 1400 fitting: two blocks of 1000)
    const fit = Math.max(1, Math.floor(AUTO_CHUNK_BYTES / bytes));
    size[d] = Math.ceil(n / Math.ceil(n / fit));
    break;
  }
  return normalizeChunks(size.map((s, d) => (shape[d] === 0 ? -1 : s)), shape, itemsize);
}
