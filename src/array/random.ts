/**
 * Seeded random arrays. Values depend only on (seed, flat element index): the same seed gives
 * bit-identical arrays for any chunking, worker count or rank count.
 */
import { randomInt } from "node:crypto";
import { invalid, show } from "../errors.js";
import { newId, type Node } from "../graph/nodes.js";
import { binaryNode, checkNumber } from "./build.js";
import type { ChunkSpec } from "./chunks.js";
import type { ChunkedArray } from "./chunked.js";
import { lazy } from "./creation.js";
import { checkDType, type DType } from "./dtype.js";
import { checkShape } from "./shape.js";

export interface RandomOptions {
  chunks?: ChunkSpec;
  /** integer in [0, 2^53); default: a fresh random seed */
  seed?: number;
  /** float64 (default) or float32 */
  dtype?: DType;
}

function source(dist: "uniform" | "normal", shape: unknown, opts: RandomOptions | undefined): { node: Node; opts: RandomOptions } {
  const o = opts ?? {};
  if (typeof o !== "object" || o === null) throw invalid("INVALID_ARGUMENT", `random options ${show(o)} must be an object`);
  for (const k of Object.keys(o)) if (!["chunks", "seed", "dtype"].includes(k)) throw invalid("INVALID_ARGUMENT", `random has no option ${show(k)}; it takes chunks, seed, dtype`);
  const seed = o.seed ?? randomInt(2 ** 47);
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw invalid("INVALID_ARGUMENT", `seed ${show(seed)} must be an integer from 0 to 2^53 - 1`);
  }
  if (o.dtype !== undefined && o.dtype !== "float64" && o.dtype !== "float32") {
    throw invalid("INVALID_DTYPE", `random dtype ${show(o.dtype)} must be float64 or float32`);
  }
  return { node: { kind: "random", id: newId(), shape: checkShape(shape), dtype: "float64", dist, seed }, opts: o };
}

function finish(node: Node, o: RandomOptions): ChunkedArray {
  const dtype = o.dtype === undefined ? "float64" : checkDType(o.dtype);
  const n: Node = dtype === "float64" ? node : { kind: "map", id: newId(), op: "astype", args: [node], shape: [...node.shape], dtype };
  return lazy(n, o.chunks);
}

/** Uniform values in [0, 1). */
function random_(shape: number | number[], opts?: RandomOptions): ChunkedArray {
  const { node, opts: o } = source("uniform", shape, opts);
  return finish(node, o);
}

/** Uniform values in [low, high): low + (high - low) * u, as numpy. */
function uniform(low: number, high: number, shape: number | number[], opts?: RandomOptions): ChunkedArray {
  checkNumber(low, "uniform low");
  checkNumber(high, "uniform high");
  const { node, opts: o } = source("uniform", shape, opts);
  return finish(binaryNode("add", binaryNode("mul", node, high - low), low), o);
}

/** Normal values with mean `loc` and standard deviation `scale`: loc + scale * z. */
function normal(loc: number, scale: number, shape: number | number[], opts?: RandomOptions): ChunkedArray {
  checkNumber(loc, "normal mean");
  checkNumber(scale, "normal std");
  if (scale < 0) throw invalid("INVALID_ARGUMENT", `normal std ${scale} must be non-negative`);
  const { node, opts: o } = source("normal", shape, opts);
  return finish(binaryNode("add", binaryNode("mul", node, scale), loc), o);
}

export const random = { random: random_, uniform, normal };
