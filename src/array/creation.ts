/** Creation functions: zeros, ones, full, arange, linspace, fromArray, and the top-level where/compute. */
import { invalid, show } from "../errors.js";
import { checkOptions } from "./options.js";
import { newId, type DataNode, type Node } from "../graph/nodes.js";
import { whereNode, binaryNode, checkNumber, scalarOperand, unaryNode } from "./build.js";
import { normalizeChunks, unifyChunks, type ChunkSpec } from "./chunks.js";
import { ChunkedArray } from "./chunked.js";
import { computeMany, type ComputeOptions, type ComputeResult } from "./compute.js";
import { checkDType, dtypeOfTypedArray, isFloat, itemsize, scalarDType, typedArrayFor, type DType, type TypedArray } from "../dtype.js";
import { NDArray, fromRawResult } from "./ndarray.js";
import { computeEager } from "./eager.js";
import { checkShape, sizeOf } from "./shape.js";

export interface CreationOptions {
  chunks?: ChunkSpec;
  dtype?: DType;
}

/** @internal a lazy array over a node, with chunks from a spec */
export function lazy(node: Node, chunks: ChunkSpec | undefined): ChunkedArray {
  return new ChunkedArray(node, normalizeChunks(chunks, node.shape, itemsize(node.dtype)));
}

/** full, zeros and ones: `fn` names the caller in errors; `dtype0` is its default dtype (full: from the value). */
function filled(fn: string, shape: number | number[], value: number, opts: CreationOptions | undefined, dtype0?: DType): ChunkedArray {
  const o = checkOptions<Record<string, unknown>>(opts, ["chunks", "dtype"], fn);
  const s = checkShape(shape);
  let v = checkNumber(value, "fill value");
  const dtype = o.dtype !== undefined ? checkDType(o.dtype) : (dtype0 ?? (typeof value === "boolean" ? "bool" : scalarDType(v, "float64")));
  if (dtype === "int32") {
    // as numpy: a fraction is truncated; what no int32 can hold is refused, never wrapped
    const t = Math.trunc(v);
    if (!Number.isFinite(v) || t > 2 ** 31 - 1 || t < -(2 ** 31)) throw invalid("INVALID_ARGUMENT", `fill value ${show(value)} does not fit int32`);
    v = t;
  } else if (dtype === "bool") v = v !== 0 ? 1 : 0; // NaN is true, as numpy's bool(nan) and astype
  return lazy({ kind: "fill", id: newId(), shape: s, dtype, value: v }, o.chunks as ChunkSpec | undefined);
}

export const full = (shape: number | number[], value: number, opts?: CreationOptions): ChunkedArray => filled("full", shape, value, opts);
export const zeros = (shape: number | number[], opts?: CreationOptions): ChunkedArray => filled("zeros", shape, 0, opts, "float64");
export const ones = (shape: number | number[], opts?: CreationOptions): ChunkedArray => filled("ones", shape, 1, opts, "float64");

/**
 * arange(stop) or arange(start, stop, step?): start + i * step for i < ceil((stop - start) / step).
 * dtype int32 when every argument is an integer, else float64 (as numpy). Options may come last.
 */
export function arange(...args: (number | CreationOptions | undefined)[]): ChunkedArray {
  const last = args[args.length - 1];
  const opts = checkOptions(typeof last === "object" ? last : undefined, ["chunks", "dtype"], "arange");
  const nums = (typeof last === "object" ? args.slice(0, -1) : args).filter((a) => a !== undefined) as number[];
  if (nums.length < 1 || nums.length > 3) throw invalid("INVALID_ARGUMENT", `arange takes (stop), (start, stop) or (start, stop, step), got ${nums.length} numbers`);
  nums.forEach((n) => checkNumber(n, "arange argument"));
  const [start, stop, step] = nums.length === 1 ? [0, nums[0]!, 1] : [nums[0]!, nums[1]!, nums[2] ?? 1];
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step)) throw invalid("INVALID_ARGUMENT", `arange arguments ${show(nums)} must be finite`);
  if (step === 0) throw invalid("INVALID_ARGUMENT", "arange step must not be 0");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = opts.dtype === undefined ? (nums.every(Number.isInteger) ? "int32" : "float64") : checkDType(opts.dtype);
  if (dtype === "int32" && (start + (n - 1) * step > 2 ** 31 - 1 || start + (n - 1) * step < -(2 ** 31))) {
    throw invalid("INVALID_ARGUMENT", `arange(${nums.join(", ")}) does not fit int32; pass { dtype: "float64" }`);
  }
  return affineOfIndex([n], start, step, dtype, opts.chunks as ChunkSpec | undefined);
}

/** num evenly spaced values from start to stop (stop included unless endpoint is false), as numpy. */
export function linspace(start: number, stop: number, num = 50, opts?: CreationOptions & { endpoint?: boolean }): ChunkedArray {
  const o = checkOptions(opts, ["chunks", "dtype", "endpoint"], "linspace");
  checkNumber(start, "linspace start");
  checkNumber(stop, "linspace stop");
  if (!Number.isSafeInteger(num) || num < 0) throw invalid("INVALID_ARGUMENT", `linspace num ${show(num)} must be a non-negative integer`);
  if (o.endpoint !== undefined && typeof o.endpoint !== "boolean") throw invalid("INVALID_ARGUMENT", `linspace endpoint ${show(o.endpoint)} must be true or false`);
  const endpoint = (o.endpoint as boolean | undefined) ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : NaN;
  const dtype = o.dtype === undefined ? "float64" : checkDType(o.dtype);
  const iota: Node = { kind: "iota", id: newId(), shape: [num], dtype: "float64" };
  let node: Node = div > 0 ? binaryNode("add", binaryNode("mul", iota, step), start) : { kind: "fill", id: newId(), shape: [num], dtype: "float64", value: start };
  if (endpoint && num > 1) node = whereNode(binaryNode("eq", iota, num - 1), stop, node);
  if (dtype === "int32") node = unaryNode("floor", node); // numpy 2 floors linspace to integers
  return castTo(node, dtype, o.chunks as ChunkSpec | undefined);
}

function affineOfIndex(shape: number[], start: number, step: number, dtype: DType, chunks: ChunkSpec | undefined): ChunkedArray {
  const iota: Node = { kind: "iota", id: newId(), shape, dtype: "float64" };
  const node = binaryNode("add", step === 1 ? iota : binaryNode("mul", iota, step), start);
  return castTo(node, dtype, chunks);
}

function castTo(node: Node, dtype: DType, chunks: ChunkSpec | undefined): ChunkedArray {
  if (node.dtype === dtype) return lazy(node, chunks);
  return lazy({ kind: "map", id: newId(), op: "astype", args: [node], shape: [...node.shape], dtype }, chunks);
}

/**
 * A chunked array from user data: nested number (or boolean) arrays, an NDArray, or a typed array
 * with { shape }. The data is copied.
 */
export function fromArray(source: unknown, opts?: CreationOptions & { shape?: number[] }): ChunkedArray {
  const o = checkOptions(opts, ["chunks", "dtype", "shape"], "fromArray");
  const nd = toNDArray(source, o.shape as number[] | undefined);
  const data = nd.data.slice() as TypedArray;
  if (nd.dtype === "bool") for (let i = 0; i < data.length; i++) if (data[i]! > 1) data[i] = 1; // bool data is 0 and 1
  const dtype = o.dtype === undefined ? nd.dtype : checkDType(o.dtype);
  if (dtype === "int32" && isFloat(nd.dtype)) checkFitsInt32(data);
  const chunks = normalizeChunks(o.chunks as ChunkSpec | undefined, nd.shape, itemsize(nd.dtype));
  // plans cut the data into the array's own chunks
  const node: DataNode = { kind: "data", id: newId(), shape: [...nd.shape], dtype: nd.dtype, data, chunks };
  const arr = new ChunkedArray(node, chunks);
  return dtype === nd.dtype ? arr : arr.astype(dtype);
}

/**
 * Values given for an int32 array must be ones an int32 holds (a fraction is truncated), as full and
 * numpy's array(..., dtype) refuse them: astype saturates by design, but data the user wrote out and
 * typed as int32 that does not fit is a mistake, not a value to clamp.
 */
function checkFitsInt32(data: TypedArray): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v > -(2 ** 31) - 1 && v < 2 ** 31)) {
      throw invalid("INVALID_ARGUMENT", `fromArray value ${show(v)} (flat index ${i}) does not fit int32; use astype("int32") to saturate`);
    }
  }
}

export function toNDArray(source: unknown, shape?: number[]): NDArray {
  const td = dtypeOfTypedArray(source);
  if (td) {
    const data = source as TypedArray;
    const s = checkShape(shape ?? [data.length]);
    if (sizeOf(s) !== data.length) throw invalid("SHAPE_MISMATCH", `a typed array of length ${data.length} does not fit shape [${s.join(", ")}]`);
    return new NDArray(data, s, td);
  }
  const nd = source instanceof NDArray ? source : nestedToNDArray(source);
  if (shape === undefined) return nd;
  // { shape } with nested arrays or an NDArray: the same values in C order, in that shape
  const s = checkShape(shape);
  if (sizeOf(s) !== nd.size) throw invalid("SHAPE_MISMATCH", `${nd.size} values (shape [${nd.shape.join(", ")}]) do not fit shape [${s.join(", ")}]`);
  return new NDArray(nd.data, s, nd.dtype);
}

function nestedToNDArray(source: unknown): NDArray {
  if (ArrayBuffer.isView(source)) {
    throw invalid("INVALID_DTYPE", `${(source as object).constructor.name} is not supported; use Float64Array, Float32Array, Int32Array or Uint8Array (bool)`);
  }
  if (!Array.isArray(source) && typeof source !== "number" && typeof source !== "boolean") {
    throw invalid("INVALID_ARGUMENT", `fromArray takes nested arrays, an NDArray or a typed array, got ${show(source)}`);
  }
  const s: number[] = [];
  for (let v: unknown = source; Array.isArray(v); v = v[0]) s.push(v.length);
  const flat: unknown[] = [];
  let bools = 0;
  const walk = (v: unknown, d: number, path: number[]) => {
    if (d === s.length) {
      if (typeof v === "boolean") bools++;
      else if (typeof v !== "number") throw invalid("INVALID_ARGUMENT", `element at [${path.join(", ")}] is ${show(v)}, not a number`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== s[d]) {
      throw invalid("INVALID_SHAPE", `nested arrays are ragged: at [${path.join(", ")}] expected ${s[d]} elements, got ${Array.isArray(v) ? v.length : show(v)}`);
    }
    v.forEach((x, i) => walk(x, d + 1, [...path, i]));
  };
  walk(source, 0, []);
  checkShape(s);
  const dtype: DType = flat.length > 0 && bools === flat.length ? "bool" : "float64";
  const data = typedArrayFor(dtype, flat.length);
  flat.forEach((v, i) => (data[i] = typeof v === "boolean" ? (v ? 1 : 0) : (v as number)));
  return new NDArray(data, s, dtype);
}

type Operand = ChunkedArray | NDArray | number | boolean;

/** where(cond, a, b): a where cond is true (non-zero), else b, with broadcasting. */
export function where(cond: Operand, a: Operand, b: Operand): ChunkedArray | NDArray {
  const ops = [cond, a, b];
  const nodes = ops.map((x, i) =>
    x instanceof ChunkedArray || x instanceof NDArray ? x.node : scalarOperand(x, `where ${["condition", "x", "y"][i]}`),
  );
  const node = whereNode(nodes[0]!, nodes[1]!, nodes[2]!);
  if (!ops.some((x) => x instanceof ChunkedArray)) {
    // all eager: compute now, as NDArray methods do
    return eagerWhere(node);
  }
  const arrays = ops.flatMap((x) =>
    x instanceof ChunkedArray ? [{ shape: x.shape, chunks: x.chunks }] : x instanceof NDArray ? [{ shape: x.shape, chunks: x.shape.map((n) => [n]) }] : [],
  );
  return new ChunkedArray(node, unifyChunks(node.shape, arrays));
}

function eagerWhere(node: Node): NDArray {
  const [r] = computeEager([{ node, chunks: node.shape.map((n) => [n]) }]);
  return fromRawResult(r!, node.dtype);
}

/**
 * compute(a, b, ..., options?): computes several arrays in one pass; shared intermediates are
 * computed once. Resolves to one result per array.
 */
export async function compute(...args: (ChunkedArray | ComputeOptions)[]): Promise<ComputeResult[]> {
  const last = args[args.length - 1];
  const isArray = (a: unknown) => a instanceof ChunkedArray || a instanceof NDArray;
  const opts = last !== undefined && !isArray(last) ? (args.pop() as ComputeOptions) : undefined;
  args.forEach((a, i) => {
    if (a instanceof NDArray) throw invalid("INVALID_ARGUMENT", `compute argument ${i} is an NDArray, which is computed already; compute() takes ChunkedArrays`);
    if (!(a instanceof ChunkedArray)) throw invalid("INVALID_ARGUMENT", `compute argument ${i} is ${show(a)}, not a ChunkedArray`);
  });
  return computeMany(args as ChunkedArray[], opts);
}
