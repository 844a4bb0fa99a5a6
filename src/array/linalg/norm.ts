/**
 * numpy.linalg.norm: vector norms over one axis, matrix norms over a pair, by numpy's formulas (not
 * rescaled: values whose squares overflow give Infinity, as numpy's). Built from the fused elementwise
 * operations and reductions, so `linalg.norm(x)` reads x once; a full norm resolves to a number.
 */
import { invalid, show } from "../../errors.js";
import { isFloat } from "../../dtype.js";
import type { Node, ReduceOp } from "../../graph/nodes.js";
import type { Chunks } from "../../grid.js";
import type { ChunkedArray } from "../chunked.js";
import type { NDArray } from "../ndarray.js";
import { binaryNode, reduceNode, unaryNode } from "../build.js";
import { checkOptions } from "../options.js";
import { axisOf } from "../views.js";
import { checkArray, reductionResult, type AnyArray } from "../any-array.js";
import { singularValueNorm } from "./svd-norms.js";

export type NormOrd = number | "fro" | "f" | "nuc";

export interface NormOptions {
  /**
   * vectors: 2 (default), 1, Infinity, -Infinity, 0 (the count of non-zeros), any other p (sum |x|^p)^(1/p);
   * matrices: "fro" (default), 1, -1, Infinity, -Infinity (2, -2 and "nuc" need linalg.svd)
   */
  ord?: NormOrd;
  /** one axis (a vector norm), a pair (a matrix norm); default: the whole array (see norm) */
  axis?: number | readonly number[];
  /** keep the normed axes with length 1 */
  keepdims?: boolean;
}

export type NormResult = ChunkedArray | NDArray | number;

/** A node with the chunks it is computed on. */
interface Built {
  node: Node;
  chunks: Chunks;
}

/**
 * numpy.linalg.norm(x, { ord, axis, keepdims }). Without axis: the 2-norm of the flattened array when ord is
 * not given (or is "fro" for a 2-d array, 2 for a 1-d one), else the vector norm of a 1-d array or the
 * matrix norm of a 2-d one. Integer and bool arrays give float64; float32 stays float32.
 */
export function norm(x: ChunkedArray, opts?: NormOptions): ChunkedArray;
export function norm(x: NDArray, opts?: NormOptions): number | NDArray;
export function norm(x: AnyArray, opts?: NormOptions): NormResult {
  const a = checkArray(x, "linalg.norm input");
  const o = checkOptions<NormOptions>(opts, ["ord", "axis", "keepdims"], "linalg.norm");
  const keepdims = o.keepdims ?? false;
  if (typeof keepdims !== "boolean") throw invalid("INVALID_ARGUMENT", `linalg.norm keepdims ${show(keepdims)} must be a boolean`);
  const ord = checkOrd(o.ord);
  const nd = a.ndim;
  const all = [...Array(nd).keys()];
  let axes: number[];
  if (o.axis === undefined || o.axis === null) {
    // numpy: the flattened 2-norm, whatever the shape, unless an ord asks for something else
    if (ord === undefined || ((ord === "fro" || ord === "f") && nd === 2) || (ord === 2 && nd === 1)) {
      return finish(a, (b) => sqrtSumSquares(b, all, keepdims));
    }
    axes = all;
  } else axes = normAxes(o.axis, nd);
  if (axes.length === 1) return finish(a, (b) => vectorNorm(b, ord, axes[0]!, keepdims));
  if (axes.length !== 2) {
    throw invalid("INVALID_AXIS", `linalg.norm with ord ${show(ord)} of an array of dimension ${nd} needs axis: one axis (a vector norm) or two (a matrix norm)`);
  }
  const [r, c] = axes as [number, number];
  if (ord === 2 || ord === -2 || ord === "nuc") return singularValueNorm(a, ord, r, c, keepdims);
  return finish(a, (b) => matrixNorm(b, ord, r, c, keepdims));
}

function checkOrd(ord: unknown): NormOrd | undefined {
  if (ord === undefined || ord === null) return undefined;
  if (ord === "fro" || ord === "f" || ord === "nuc") return ord;
  if (typeof ord === "number" && !Number.isNaN(ord)) return ord;
  throw invalid("INVALID_ARGUMENT", `linalg.norm ord ${show(ord)} is not a norm order (a number, "fro" or "nuc")`);
}

/** axis: an integer or an array of one or two distinct integers, normalized (kept in the given order). */
function normAxes(axis: unknown, nd: number): number[] {
  const list = typeof axis === "number" ? [axis] : Array.isArray(axis) ? [...(axis as unknown[])] : null;
  if (!list || list.length === 0 || list.length > 2) {
    throw invalid("INVALID_AXIS", `linalg.norm axis ${show(axis)} must be an integer (a vector norm) or a pair of integers (a matrix norm)`);
  }
  const axes = list.map((v) => axisOf(v, nd, "linalg.norm axis"));
  if (axes.length === 2 && axes[0] === axes[1]) throw invalid("INVALID_AXIS", `linalg.norm axis ${show(axis)} repeats axis ${axes[0]}`);
  return axes;
}

/** The norm's input as floats (numpy converts integers and bools to float64 first), then the norm. */
function finish(a: AnyArray, build: (b: Built) => Built): NormResult {
  return reductionResult(a, (chunks) => {
    const node = isFloat(a.dtype) ? a.node : unaryNode("astype", a.node, "float64");
    return build({ node, chunks });
  }) as NormResult;
}

const elementwise = (b: Built, node: Node): Built => ({ node, chunks: b.chunks });
const reduce = (op: ReduceOp, b: Built, axis: number | number[], keepdims: boolean): Built => reduceNode(op, b.node, b.chunks, { axis, keepdims });
const absOf = (b: Built) => elementwise(b, unaryNode("abs", b.node));

function sqrtSumSquares(b: Built, axes: number[], keepdims: boolean): Built {
  const s = reduce("sum", elementwise(b, binaryNode("mul", b.node, b.node)), axes, keepdims);
  return elementwise(s, unaryNode("sqrt", s.node));
}

function vectorNorm(b: Built, ord: NormOrd | undefined, axis: number, keepdims: boolean): Built {
  if (ord === undefined || ord === 2) return sqrtSumSquares(b, [axis], keepdims);
  if (typeof ord === "string") throw invalid("INVALID_ARGUMENT", `linalg.norm ord ${show(ord)} is not a norm order for vectors (a number: 2, 1, Infinity, -Infinity, 0, p)`);
  if (ord === Infinity) return reduce("max", absOf(b), axis, keepdims);
  if (ord === -Infinity) return reduce("min", absOf(b), axis, keepdims);
  if (ord === 0) return reduce("sum", elementwise(b, unaryNode("astype", binaryNode("ne", b.node, 0), b.node.dtype)), axis, keepdims);
  if (ord === 1) return reduce("sum", absOf(b), axis, keepdims);
  // (sum |x|^p)^(1/p), the exponent 1/p in the array's dtype (numpy's reciprocal(ord, dtype=ret.dtype))
  const abs = absOf(b);
  const s = reduce("sum", elementwise(abs, binaryNode("pow", abs.node, ord)), axis, keepdims);
  return elementwise(s, binaryNode("pow", s.node, 1 / ord));
}

function matrixNorm(b: Built, ord: NormOrd | undefined, r: number, c: number, keepdims: boolean): Built {
  if (ord === undefined || ord === "fro" || ord === "f") return sqrtSumSquares(b, [r, c], keepdims);
  // 1 / -1: the largest / smallest column sum of |x| (the sum over rows); Infinity / -Infinity: row sums
  const [inner, outer] = ord === 1 || ord === -1 ? [r, c] : ord === Infinity || ord === -Infinity ? [c, r] : [-1, -1];
  if (inner < 0) {
    throw invalid("INVALID_ARGUMENT", `linalg.norm ord ${show(ord)} is not a norm order for matrices ("fro", "nuc", 1, -1, 2, -2, Infinity, -Infinity)`);
  }
  const sums = reduce("sum", absOf(b), inner, keepdims);
  // without keepdims the inner sum removed an axis: the outer one moves down when it came after it
  const at = !keepdims && outer > inner ? outer - 1 : outer;
  return reduce(ord === 1 || ord === Infinity ? "max" : "min", sums, at, keepdims);
}
