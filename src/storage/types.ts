/**
 * What plans and workers know of stored arrays: plain-data descriptions of where a task reads or writes
 * its region (a worker opens the file itself from them), one kind per format.
 */
import type { Hdf5Source } from "./hdf5.js";
import type { NpySink, NpySource } from "./npy.js";
import type { NpzSource } from "./npz.js";
import type { ZarrSink, ZarrSource } from "./zarr-meta.js";
import type { ZstdChunkReader, ZstdInPlace } from "./zstd.js";
import type { ZstdChunkWriter, ZstdEncoder } from "./zstd-write.js";

/** Where a stored array's elements are read from. */
export type SourceSpec = NpySource | ZarrSource | Hdf5Source | NpzSource;
/** Where an array's elements are written to (a file being made under a temporary name, or Zarr chunks). */
export type SinkSpec = NpySink | ZarrSink;

/** Faster decoders a worker lends the format code (each null where it has none: the portable ones serve). */
export interface ChunkDecoders {
  /** zstd in a small memory of the worker's own: streamed through its stages, or whole */
  zstd: ZstdChunkReader | null;
  /** zstd in the memory the destination lies in (the kernel memory), with the worker's workspace there */
  zstdInPlace: ZstdInPlace | null;
}

/** Faster encoders a worker lends the format code (each null where it has none: numcodecs' serve). */
export interface ChunkEncoders {
  /** zstd staged in a small memory of the worker's own (for chunks not in the kernel memory as stored) */
  zstd: ZstdChunkWriter | null;
  /** zstd in the kernel memory, where the data handed to writeRegion lies, with the worker's zstd area */
  zstdInPlace: ZstdEncoder | null;
}
