/**
 * Scans and differences, as numpy's: `cumsum`/`cumprod` along an axis (of the flattened array without
 * one) and `diff(n, axis)`. A scan is one sequential pass in element order, computed block by block: each
 * task starts from the running values the block before it along the axis ended with (graph/nodes.ts
 * ScanNode), so results equal numpy's, bit for bit, for any chunking, worker or rank count. `diff` is a
 * difference of two shifted views, fused like any elementwise expression.
 */
import { invalid, show } from "../errors.js";
import { newId, type Node, type ScanNode, type ScanOp } from "../graph/nodes.js";
import type { Chunks } from "../grid.js";
import { binaryNode } from "./build.js";
import { checkOptions } from "./options.js";
import { reshapeOf } from "./reshape.js";
import { axisOf, viewOf, type Derived } from "./views.js";

export interface ScanOptions {
  /** the axis to scan along; without it, the flattened array is scanned (numpy's axis=None) */
  axis?: number;
}

export interface DiffOptions {
  /** how many times to take the difference (default 1; 0 gives the array itself) */
  n?: number;
  /** default -1, the last axis */
  axis?: number;
}

/** The scan of `input` on `chunks`: dtypes as sum's (float32 stays float32; int32 and bool give float64). */
export function scanOf(op: ScanOp, input: Node, chunks: Chunks, opts: ScanOptions | undefined): Derived {
  const o = checkOptions<ScanOptions>(opts, ["axis"], op);
  if (o.axis === undefined) {
    // numpy scans the flattened array
    const flat = reshapeOf(input, chunks, [-1]);
    return scanOf(op, flat.node, flat.chunksOf(chunks), { axis: 0 });
  }
  if (input.shape.length === 0) throw invalid("INVALID_AXIS", `${op} axis ${show(o.axis)} is out of bounds for a 0-d array`);
  const axis = axisOf(o.axis, input.shape.length, `${op} axis`);
  const own = chunks.map((c) => [...c]);
  const node: ScanNode = { kind: "scan", id: newId(), op, input, axis, chunks: own, shape: [...input.shape], dtype: input.dtype === "float32" ? "float32" : "float64" };
  return { node, chunksOf: () => own.map((c) => [...c]) };
}

/** numpy's diff: out[i] = a[i + 1] - a[i] along the axis, n times (bool arrays: a[i + 1] != a[i]). */
export function diffOf(input: Node, opts: DiffOptions | undefined): Derived {
  const o = checkOptions<DiffOptions>(opts, ["n", "axis"], "diff");
  const n = o.n ?? 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw invalid("INVALID_ARGUMENT", `diff n ${show(n)} must be a non-negative integer`);
  if (input.shape.length === 0) throw invalid("INVALID_AXIS", "diff requires an array of at least one dimension (numpy)");
  const nd = input.shape.length;
  const axis = axisOf(o.axis ?? -1, nd, "diff axis");
  let node = input;
  const steps: Derived[] = [];
  for (let k = 0; k < n; k++) {
    const len = Math.max(0, node.shape[axis]! - 1);
    const shape = node.shape.map((s, d) => (d === axis ? len : s));
    const shifted = (by: number) => viewOf(node, { source: [...Array(nd).keys()], step: new Array(nd).fill(1), offset: node.shape.map((_, d) => (d === axis ? by : 0)) }, shape);
    const hi = shifted(1);
    const lo = shifted(0);
    steps.push(hi);
    node = binaryNode(node.dtype === "bool" ? "ne" : "sub", hi.node, lo.node);
  }
  // chunks: those of a[1:] at every step (numpy and dask alike; the other operand is read across them)
  return { node, chunksOf: (chunks) => steps.reduce((c, s) => s.chunksOf(c), chunks) };
}
