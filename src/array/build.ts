/**
 * Node construction with validation, shared by ChunkedArray (lazy) and NDArray (eager): dtype rules,
 * broadcasting, reduction shapes. Errors surface here, when the graph is built, not at compute.
 */
import { invalid, show } from "../errors.js";
import type { BinaryOp, MapNode, Node, ReduceNode, ReduceOp, UnaryOp } from "../graph/nodes.js";
import { newId } from "../graph/nodes.js";
import type { Chunks } from "./chunks.js";
import { checkDType, checkScalarFits, floatResult, isFloat, resultType, type DType } from "../dtype.js";
import { broadcastShapes, normalizeAxes } from "./shape.js";

export type Operand = Node | number;

const COMPARISONS = new Set<BinaryOp>(["eq", "ne", "lt", "le", "gt", "ge"]);

export function checkNumber(v: unknown, what: string): number {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v !== "number") throw invalid("INVALID_ARGUMENT", `${what} ${show(v)} must be a number or an array`);
  return v;
}

/**
 * An operand given as a JS value: a boolean becomes a 0-d bool constant array, so it promotes as numpy's
 * Python bool does (bool with bool stays bool; with any other dtype that dtype wins), not as the number 1.
 */
export function scalarOperand(v: unknown, what: string): Node | number {
  if (typeof v === "boolean") return { kind: "fill", id: newId(), shape: [], dtype: "bool", value: v ? 1 : 0 };
  return checkNumber(v, what);
}

const dtypesOf = (ops: Operand[]) => ops.map((o) => (typeof o === "number" ? o : o.dtype));
const shapesOf = (ops: Operand[]) => ops.filter((o): o is Node => typeof o !== "number").map((o) => o.shape);

export function binaryNode(op: BinaryOp, a: Operand, b: Operand): MapNode {
  const shape = broadcastShapes(...shapesOf([a, b]));
  const operandType = resultType(dtypesOf([a, b]));
  for (const o of [a, b]) if (typeof o === "number") checkScalarFits(o, operandType);
  let dtype: DType;
  if (COMPARISONS.has(op)) dtype = "bool";
  else if (op === "div") dtype = isFloat(operandType) ? operandType : "float64";
  else if (op === "sub" && operandType === "bool") {
    throw invalid("INVALID_DTYPE", "subtracting bool arrays is not supported (as numpy); use ne, or astype(\"int32\") first");
  } else if (op === "pow" && operandType === "bool") dtype = "int32";
  else if (op === "arctan2" || op === "hypot") dtype = floatResult(operandType);
  else if ((op === "mod" || op === "floorDivide") && operandType === "bool") dtype = "int32";
  else if (op === "pow" && operandType === "int32" && typeof b === "number" && b < 0) {
    throw invalid("INVALID_ARGUMENT", `integers to negative integer powers (${b}) are not allowed (as numpy); use a float base`);
  }
  else dtype = operandType;
  return { kind: "map", id: newId(), op, args: [a, b], shape, dtype };
}

export function unaryNode(op: UnaryOp, a: Node, to?: DType): MapNode {
  let dtype: DType;
  switch (op) {
    case "astype":
      dtype = checkDType(to);
      break;
    case "neg":
      if (a.dtype === "bool") throw invalid("INVALID_DTYPE", "neg of a bool array is not supported (as numpy); use not");
      dtype = a.dtype;
      break;
    case "abs":
      dtype = a.dtype;
      break;
    case "not":
    case "isnan":
    case "isinf":
    case "isfinite":
      dtype = "bool";
      break;
    case "sign":
      if (a.dtype === "bool") throw invalid("INVALID_DTYPE", "sign of a bool array is not supported (as numpy)");
      dtype = a.dtype;
      break;
    case "floor":
    case "ceil":
      dtype = isFloat(a.dtype) ? a.dtype : "float64";
      break;
    default:
      dtype = floatResult(a.dtype);
  }
  return { kind: "map", id: newId(), op, args: [a], shape: [...a.shape], dtype };
}

export function whereNode(cond: Operand, a: Operand, b: Operand): MapNode {
  const shape = broadcastShapes(...shapesOf([cond, a, b]));
  const dtype = resultType(dtypesOf([a, b]));
  for (const o of [a, b]) if (typeof o === "number") checkScalarFits(o, dtype); // as binary ops: never wrapped
  const c = typeof cond === "number" ? (cond !== 0 ? 1 : 0) : cond; // NaN is true, as numpy's bool(nan)
  return { kind: "map", id: newId(), op: "where", args: [c, a, b], shape, dtype };
}

export interface ReduceOptions {
  axis?: number | number[];
  keepdims?: boolean;
  ddof?: number;
}

const REDUCE_OPTIONS = new Set(["axis", "keepdims", "ddof"]);

/** The reduction node plus the chunks its result has (for lazy arrays). */
/** What a reduction named `name` takes: ddof (var, std), one axis only (arg*), elements (no identity). */
export interface ReductionKind {
  ddof: boolean;
  singleAxis: boolean;
  needsElements: boolean;
}

export const reductionKind = (name: string): ReductionKind => ({
  ddof: /^(nan)?(var|std)$/.test(name),
  singleAxis: /^(nan)?arg(min|max)$/.test(name),
  needsElements: /^(nan)?(arg)?(min|max)$/.test(name),
});

/** Checks a reduction's options against an input of `shape`; messages name the reduction. */
export function checkReduceOptions(name: string, shape: readonly number[], opts: ReduceOptions): { axes: number[]; keepdims: boolean; ddof: number } {
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `${name} options ${show(opts)} must be an object`);
  const kind = reductionKind(name);
  for (const k of Object.keys(opts)) {
    if (!REDUCE_OPTIONS.has(k) || (k === "ddof" && !kind.ddof)) {
      throw invalid("INVALID_ARGUMENT", `${name} has no option ${show(k)}; it takes axis, keepdims${kind.ddof ? ", ddof" : ""}`);
    }
  }
  if (kind.singleAxis && Array.isArray(opts.axis)) {
    throw invalid("INVALID_AXIS", `${name} takes a single axis, not ${show(opts.axis)}`);
  }
  const axes = normalizeAxes(opts.axis, shape.length);
  const keepdims = opts.keepdims ?? false;
  if (typeof keepdims !== "boolean") throw invalid("INVALID_ARGUMENT", `keepdims ${show(keepdims)} must be a boolean`);
  const ddof = opts.ddof ?? 0;
  if (typeof ddof !== "number" || !Number.isFinite(ddof) || ddof < 0) throw invalid("INVALID_ARGUMENT", `ddof ${show(ddof)} must be a non-negative number`);
  if (kind.needsElements && axes.some((d) => shape[d] === 0)) {
    throw invalid("EMPTY_REDUCTION", `${name} of an empty axis (shape [${shape.join(", ")}]) has no identity`);
  }
  return { axes, keepdims, ddof };
}

/** The chunks of a reduction over `axes` of an input on `inputChunks` (a kept axis is one chunk of 1). */
export function reducedChunks(inputChunks: Chunks, axes: readonly number[], keepdims: boolean): Chunks {
  const chunks: Chunks = [];
  inputChunks.forEach((c, d) => {
    if (!axes.includes(d)) chunks.push([...c]);
    else if (keepdims) chunks.push([1]);
  });
  return chunks;
}

export function reduceNode(op: ReduceOp, input: Node, inputChunks: Chunks, opts: ReduceOptions = {}): { node: ReduceNode; chunks: Chunks } {
  const { axes, keepdims, ddof } = checkReduceOptions(op, input.shape, opts);
  const nd = input.shape.length;
  const chunks = reducedChunks(inputChunks, axes, keepdims);
  const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
  const node: ReduceNode = {
    kind: "reduce",
    id: newId(),
    op,
    input,
    inputChunks,
    axes,
    keepdims,
    ddof,
    shape,
    dtype: reduceDType(op, input.dtype, axes.length === nd),
  };
  return { node, chunks };
}

function reduceDType(op: ReduceOp, d: DType, full: boolean): DType {
  switch (op) {
    case "sum":
    case "prod":
      return d === "float32" ? "float32" : "float64";
    case "histogram":
      return "float64";
    case "mean":
    case "var":
    case "std":
      return d === "float32" ? "float32" : "float64";
    case "min":
    case "max":
      return d;
    case "nanargmin":
    case "nanargmax":
    case "argmin":
    case "argmax":
      return full ? "float64" : "int32";
    case "any":
    case "all":
      return "bool";
  }
}
