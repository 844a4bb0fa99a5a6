/**
 * Seeded random arrays. Values depend only on (seed, flat element index): the same seed gives
 * bit-identical arrays for any chunking, worker count or rank count.
 */
import { randomInt } from "node:crypto";
import { invalid, show } from "../errors.js";
import { newId, type Node } from "../graph/nodes.js";
import { binaryNode, checkNumber, unaryNode } from "./build.js";
import type { ChunkSpec } from "./chunks.js";
import type { ChunkedArray } from "./chunked.js";
import { lazy } from "./creation.js";
import { checkDType, type DType } from "../dtype.js";
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
  // float32: keep the top 24 bits (exact), so rounding can never reach 1.0
  const u = o.dtype === "float32" ? binaryNode("mul", unaryNode("floor", binaryNode("mul", node, 2 ** 24)), 2 ** -24) : node;
  return finish(u, o);
}

/** Uniform values in [low, high): low + (high - low) * u, as numpy. */
function uniform(low: number, high: number, shape: number | number[], opts?: RandomOptions): ChunkedArray {
  checkNumber(low, "uniform low");
  checkNumber(high, "uniform high");
  const { node, opts: o } = source("uniform", shape, opts);
  const v = finish(binaryNode("add", binaryNode("mul", node, high - low), low), o);
  // rounding to float32 can reach `high`: keep the interval half-open
  return o.dtype === "float32" && high > low ? v.minimum(nextDown32(high)) : v;
}

/** Normal values with mean `loc` and standard deviation `scale`: loc + scale * z. */
function normal(loc: number, scale: number, shape: number | number[], opts?: RandomOptions): ChunkedArray {
  checkNumber(loc, "normal mean");
  checkNumber(scale, "normal std");
  if (scale < 0) throw invalid("INVALID_ARGUMENT", `normal std ${scale} must be non-negative`);
  const { node, opts: o } = source("normal", shape, opts);
  return finish(binaryNode("add", binaryNode("mul", node, scale), loc), o);
}

/** The largest float32 below x (x > 0 or x <= 0 alike). */
function nextDown32(x: number): number {
  const f = new Float32Array([x]);
  if (f[0]! < x) return f[0]!;
  const i = new Int32Array(f.buffer);
  i[0] = f[0]! > 0 ? i[0]! - 1 : f[0]! === 0 ? -2147483647 : i[0]! + 1;
  return f[0]!;
}

export const random = { random: random_, uniform, normal };
