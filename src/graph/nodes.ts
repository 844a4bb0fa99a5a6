/**
 * The lazy graph: plain-data nodes, built by the array layer, lowered to plans by lower.ts.
 * Sources, elementwise operations and views are "virtual": they can be evaluated on any region, so they
 * are fused into the programs of their consumers. Data, stored, reduction and mapBlocks nodes are
 * materialized: their values live in chunk buffers.
 */
import type { DType, TypedArray } from "../dtype.js";
import type { Chunks } from "../grid.js";
import type { IndexMap } from "../index-map.js";
import type { ReduceOp } from "../plan/types.js";
import type { SourceSpec } from "../storage/types.js";

export type { Chunks } from "../grid.js";
export type { ReduceOp } from "../plan/types.js";

export type UnaryOp =
  | "neg" | "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "tanh" | "floor" | "ceil"
  | "astype" | "not" | "isnan"
  | "tan" | "arcsin" | "arccos" | "arctan" | "sinh" | "cosh" | "arcsinh" | "arccosh" | "arctanh"
  | "log1p" | "expm1" | "log2" | "log10" | "exp2" | "sign" | "isinf" | "isfinite" | "rint";
export type BinaryOp =
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
  | "arctan2" | "hypot" | "mod" | "floorDivide" | "fmax" | "fmin";

interface NodeBase {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Random values that depend only on (seed, flat index in `shape`). */
export interface RandomNode extends NodeBase {
  readonly kind: "random";
  readonly dist: "uniform" | "normal";
  readonly seed: number;
}
/** The flat index as a value (arange and linspace build on it). */
export interface IotaNode extends NodeBase {
  readonly kind: "iota";
}
export interface FillNode extends NodeBase {
  readonly kind: "fill";
  readonly value: number;
}
/** User data held in one C-contiguous typed array. */
export interface DataNode extends NodeBase {
  readonly kind: "data";
  readonly data: TypedArray;
  /** how plans cut it into chunks (default: one chunk) */
  readonly chunks?: Chunks;
  /** when the data already lives in a kernel memory (a block inside mapBlocks): that memory and the byte address */
  readonly home?: object;
  readonly addr?: number;
}
/** Chunks kept by an engine (persist), read in place by later plans. */
export interface StoredNode extends NodeBase {
  readonly kind: "stored";
  readonly chunks: Chunks;
  /** the engine's chunk store (opaque to the graph) */
  readonly store: object;
  /** a fingerprint that is the same on every rank for the same stored array */
  readonly fingerprint: string;
}
/** A stored array (a file): its chunks are read by tasks, region by region, each time a plan needs them. */
export interface SourceNode extends NodeBase {
  readonly kind: "source";
  readonly source: SourceSpec;
  readonly chunks: Chunks;
  /** what it is, for messages ("data.npy") */
  readonly label: string;
  /** the same on every rank for the same stored array (path, size, modification time) */
  readonly fingerprint: string;
}
/** Elementwise with broadcasting; operands are nodes or weak scalars. */
export interface MapNode extends NodeBase {
  readonly kind: "map";
  readonly op: UnaryOp | BinaryOp | "where";
  readonly args: readonly (Node | number)[];
}
/** A view: element i of this node is element map(i) of the input (slices, transposes, flips, broadcasts). */
export interface ViewNode extends NodeBase {
  readonly kind: "view";
  readonly input: Node;
  readonly map: IndexMap;
}
export interface ReduceNode extends NodeBase {
  readonly kind: "reduce";
  readonly op: ReduceOp;
  readonly input: Node;
  /** chunking of the input the partials follow */
  readonly inputChunks: Chunks;
  readonly axes: readonly number[];
  readonly keepdims: boolean;
  readonly ddof: number;
  /** op "histogram" (over every axis): the HIST parameter block (kernels/abi.ts), and optional weights of the input's shape */
  readonly hist?: HistogramSpec;
}
export interface HistogramSpec {
  readonly bins: number;
  readonly params: readonly number[];
  readonly weights?: Node;
}
export interface MapBlocksNode extends NodeBase {
  readonly kind: "mapBlocks";
  readonly input: Node;
  readonly inputChunks: Chunks;
  /** output chunks: one block per input block */
  readonly chunks: Chunks;
  /** a user function's source, or "builtin:<name>": a block function of the engine (kernels/blockwise.ts) */
  readonly fn: string;
  readonly args: readonly unknown[];
}

/**
 * A reshape of an array whose chunks line up with it (dask's rule: along merged or split axes only the
 * leading axis is cut): its chunk k holds exactly the bytes of chunk k of the input on `inputChunks`.
 */
export interface ReshapeNode extends NodeBase {
  readonly kind: "reshape";
  readonly input: Node;
  readonly inputChunks: Chunks;
  readonly chunks: Chunks;
}
/** Elements gathered along `axis` at a list of indices (given, or from a lazy 1-d int32 array). */
export interface TakeNode extends NodeBase {
  readonly kind: "take";
  readonly input: Node;
  readonly inputChunks: Chunks;
  readonly axis: number;
  /** checked, non-negative indices; null: they come from `indexNode` */
  readonly indices: readonly number[] | null;
  readonly indexNode?: Node;
  readonly indexChunks?: readonly number[];
  readonly chunks: Chunks;
}

/**
 * Arrays joined along `axis` (all of this node's dtype); its chunks cut at every input's edges. Virtual: a
 * task whose region lies in one input reads that input (graph/concat-split.ts).
 */
export interface ConcatNode extends NodeBase {
  readonly kind: "concat";
  readonly inputs: readonly Node[];
  readonly axis: number;
  readonly chunks: Chunks;
}

/**
 * A cumulative sum or product along `axis` (numpy's cumsum/cumprod), on the input's `chunks`: each task
 * scans its block starting from the carry of the block before it along the axis, so the values are
 * those of one sequential pass (numpy's), for any chunking.
 */
export interface ScanNode extends NodeBase {
  readonly kind: "scan";
  readonly op: ScanOp;
  readonly input: Node;
  readonly axis: number;
  readonly chunks: Chunks;
}
export type ScanOp = "cumsum" | "cumprod";

/**
 * numpy's matmul on operands of equal rank: a [...batch, M, K] times b [...batch, K, N], batch axes
 * broadcast (extent 1 or the result's). Materialized on `aChunks` and `bChunks` (the same blocks along K;
 * along a batch axis of extent > 1, the result's blocks), both of this node's dtype (float64 or float32).
 * Each result element is its products added in increasing k, whatever the chunks (kernels/abi.ts GEMM).
 */
export interface MatmulNode extends NodeBase {
  readonly kind: "matmul";
  readonly a: Node;
  readonly b: Node;
  readonly aChunks: Chunks;
  readonly bChunks: Chunks;
  readonly chunks: Chunks;
}

export type Node =
  | SourceNode | ScanNode
  | RandomNode | IotaNode | FillNode | DataNode | StoredNode | MapNode | ViewNode | ReduceNode | MapBlocksNode | ReshapeNode | TakeNode
  | ConcatNode | MatmulNode;

let nextId = 1;
/** Node ids: identity within this process only (plans never contain them). */
export const newId = (): number => nextId++;

export const isVirtual = (n: Node): boolean =>
  n.kind === "random" || n.kind === "iota" || n.kind === "fill" || n.kind === "map" || n.kind === "view" || n.kind === "concat";

/** Direct node inputs (scalars left out). */
export function inputsOf(n: Node): Node[] {
  if (n.kind === "map") return n.args.filter((a): a is Node => typeof a !== "number");
  if (n.kind === "reduce" && n.hist?.weights) return [n.input, n.hist.weights];
  if (n.kind === "reduce" || n.kind === "mapBlocks" || n.kind === "view" || n.kind === "reshape" || n.kind === "scan") return [n.input];
  if (n.kind === "take") return n.indexNode ? [n.input, n.indexNode] : [n.input];
  if (n.kind === "concat") return [...n.inputs];
  if (n.kind === "matmul") return [n.a, n.b];
  return [];
}
