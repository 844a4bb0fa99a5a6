/**
 * Region reads and writes, by format: the one entry point worker threads use for storage tasks.
 */
import type { TypedArray } from "../dtype.js";
import { readHdf5Region } from "./hdf5.js";
import { readNpyRegion, writeNpyRegion } from "./npy.js";
import { readZarrRegion, writeZarrRegion } from "./zarr.js";
import { readNpzRegion } from "./npz.js";
import type { ChunkDecoders, ChunkEncoders, SinkSpec, SourceSpec } from "./types.js";

/** Reads region (start, shape) of a stored array into `into` (C order over the region); `decoders`: the worker's own. */
export async function readRegion(spec: SourceSpec, start: readonly number[], shape: readonly number[], into: TypedArray, decoders?: ChunkDecoders): Promise<void> {
  switch (spec.format) {
    case "npy":
      return readNpyRegion(spec, start, shape, into);
    case "zarr":
      return readZarrRegion(spec, start, shape, into, decoders);
    case "hdf5":
      return readHdf5Region(spec, start, shape, into);
    case "npz":
      return readNpzRegion(spec, start, shape, into);
  }
}

/**
 * Writes `data` (C order over the region) as region (start, shape) of an array being stored; `encoders`: the
 * worker's own (their in-place ones work on the memory `data` lies in).
 */
export async function writeRegion(spec: SinkSpec, start: readonly number[], shape: readonly number[], data: TypedArray, encoders?: ChunkEncoders): Promise<void> {
  switch (spec.format) {
    case "npy":
      return writeNpyRegion(spec, start, shape, data);
    case "zarr":
      return writeZarrRegion(spec, start, shape, data, encoders);
  }
}
