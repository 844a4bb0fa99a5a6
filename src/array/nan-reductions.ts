/**
 * nan-reductions, as numpy's: NaN is left out. They are built from the plain reductions over
 * elementwise expressions of the input (fused into the same pass wherever they share it), with numpy's
 * results for all-NaN slices: nansum 0, nanprod 1, nanmean/nanvar/nanstd/nanmin/nanmax NaN, and
 * nanargmin/nanargmax an EMPTY_REDUCTION error (numpy's "All-NaN slice encountered"). For int32 and bool
 * arrays, which hold no NaN, they are the plain reductions.
 */
import { isFloat } from "../dtype.js";
import type { Node, ReduceOp } from "../graph/nodes.js";
import { binaryNode, unaryNode, whereNode, type ReduceOptions } from "./build.js";

export type NanOp = "nansum" | "nanprod" | "nanmean" | "nanvar" | "nanstd" | "nanmin" | "nanmax" | "nanargmin" | "nanargmax";

/** A reduction of `node` (shaped as the array) with the caller's options, or others given. */
export type Reducer = (op: ReduceOp, node: Node, opts?: ReduceOptions) => Node;

const PLAIN: Record<NanOp, ReduceOp> = {
  nansum: "sum", nanprod: "prod", nanmean: "mean", nanvar: "var", nanstd: "std", nanmin: "min", nanmax: "max", nanargmin: "argmin", nanargmax: "argmax",
};

export function nanReduction(op: NanOp, x: Node, opts: ReduceOptions, reduce: Reducer): Node {
  if (!isFloat(x.dtype)) return reduce(PLAIN[op], x, opts);
  const nan = unaryNode("isnan", x);
  const without = (v: number) => whereNode(nan, v, x);
  const count = (o: ReduceOptions) => reduce("sum", unaryNode("not", nan), o);
  const like = (n: Node) => (n.dtype === x.dtype ? n : unaryNode("astype", n, x.dtype));
  const { ddof, ...rest } = opts;
  switch (op) {
    case "nansum":
      return reduce("sum", without(0), rest);
    case "nanprod":
      return reduce("prod", without(1), rest);
    case "nanmean":
      return like(binaryNode("div", reduce("sum", without(0), rest), count(rest)));
    case "nanvar":
    case "nanstd": {
      // two passes: the mean of what is not NaN, then the squares about it
      const mean = binaryNode("div", reduce("sum", without(0), { ...rest, keepdims: true }), count({ ...rest, keepdims: true }));
      const d = whereNode(nan, 0, binaryNode("sub", x, like(mean)));
      const dof = binaryNode("sub", count(rest), ddof ?? 0);
      const v = whereNode(binaryNode("gt", dof, 0), binaryNode("div", reduce("sum", binaryNode("mul", d, d), rest), dof), NaN);
      return like(op === "nanstd" ? unaryNode("sqrt", v) : v);
    }
    case "nanmin":
    case "nanmax": {
      const r = reduce(op === "nanmin" ? "min" : "max", without(op === "nanmin" ? Infinity : -Infinity), rest);
      return whereNode(reduce("all", nan, rest), NaN, r);
    }
    case "nanargmin":
    case "nanargmax":
      return reduce(op, x, rest);
  }
}
