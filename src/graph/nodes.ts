/**
 * The lazy graph: plain-data nodes, built by the array layer, lowered to stages by lower.ts.
 * Sources and elementwise nodes are "virtual": they can be evaluated on any region, so they are fused
 * into the programs of their consumers. Data, reduction and mapBlocks nodes are materialized.
 */
import type { DType, TypedArray } from "../dtype.js";

export type UnaryOp =
  | "neg" | "abs" | "sqrt" | "exp" | "log" | "sin" | "cos" | "tanh" | "floor" | "ceil"
  | "astype" | "not" | "isnan";
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge";
export type ReduceOp = "sum" | "prod" | "mean" | "min" | "max" | "var" | "std" | "argmin" | "argmax" | "any" | "all";

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
  /** when the data already lives in a kernel memory: that memory (identity) and the byte address */
  readonly home?: object;
  readonly addr?: number;
}
/** Elementwise with broadcasting; operands are nodes or weak scalars. */
export interface MapNode extends NodeBase {
  readonly kind: "map";
  readonly op: UnaryOp | BinaryOp | "where";
  readonly args: readonly (Node | number)[];
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
}
export interface MapBlocksNode extends NodeBase {
  readonly kind: "mapBlocks";
  readonly input: Node;
  readonly inputChunks: Chunks;
  /** output chunks: one block per input block */
  readonly chunks: Chunks;
  readonly fn: string;
  readonly args: readonly unknown[];
}

export type Node = RandomNode | IotaNode | FillNode | DataNode | MapNode | ReduceNode | MapBlocksNode;

/** Block sizes along each axis (dask's normalized chunks). */
export type Chunks = number[][];

let nextId = 1;
export const newId = (): number => nextId++;

export const isVirtual = (n: Node): boolean => n.kind === "random" || n.kind === "iota" || n.kind === "fill" || n.kind === "map";

/** Direct node inputs (scalars left out). */
export function inputsOf(n: Node): Node[] {
  if (n.kind === "map") return n.args.filter((a): a is Node => typeof a !== "number");
  if (n.kind === "reduce" || n.kind === "mapBlocks") return [n.input];
  return [];
}
