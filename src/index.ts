/** tessera's public API: explicit named exports, nothing else (see test/api.test.mjs). */
export { ChunkedArray } from "./array/chunked.js";
export type { BlockInfo, MapBlocksOptions } from "./array/chunked.js";
export { NDArray } from "./array/ndarray.js";
export { random } from "./array/random.js";
export type { RandomOptions } from "./array/random.js";
export { zeros, ones, full, arange, linspace, fromArray, where, compute } from "./array/creation.js";
export type { CreationOptions } from "./array/creation.js";
export type { ComputeOptions, ComputeResult } from "./array/compute.js";
export type { ReduceOptions } from "./array/build.js";
export type { DType } from "./dtype.js";
export type { ChunkSpec } from "./array/chunks.js";
export type { ProgressEvent } from "./scheduler/compute.js";
export { shutdown } from "./scheduler/engine.js";
export { world } from "./comm/index.js";
export type { World } from "./comm/world.js";
export { TesseraError, ValidationError, ComputeError, AbortError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
