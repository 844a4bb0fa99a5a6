/**
 * Contractions built on matmul, as graph nodes with their chunks: tensordot (transpose the contracted
 * axes together, reshape to matrices, multiply, reshape back, as numpy does), dot and outer. Shared by
 * the functions of products.ts and einsum.ts.
 */
import { invalid, show } from "../errors.js";
import type { Node } from "../graph/nodes.js";
import { binaryNode } from "./build.js";
import { matmulOf, type Chunked } from "./matmul.js";
import { reshapeOf } from "./reshape.js";
import { expandDimsView, squeezeView, transposeView } from "./views.js";

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

export const transposed = (x: Chunked, perm: readonly number[]): Chunked => {
  if (perm.every((p, d) => p === d)) return x;
  const d = transposeView(x.node, perm);
  return { node: d.node, chunks: d.chunksOf(x.chunks) };
};

export const reshaped = (x: Chunked, shape: readonly number[]): Chunked => {
  // to 0-d, a view (one element picked: it resolves to a number, as numpy's scalar products do)
  const d = shape.length === 0 ? squeezeView(x.node) : reshapeOf(x.node, x.chunks, shape);
  return { node: d.node, chunks: d.chunksOf(x.chunks) };
};

/** The axes of tensordot's `axes` option: an integer n (a's last n with b's first n) or two lists. */
export function tensordotAxes(axes: unknown, an: number, bn: number): [number[], number[]] {
  if (axes === undefined) axes = 2;
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > an || axes > bn) {
      throw invalid("INVALID_AXIS", `tensordot axes ${show(axes)} must be an integer from 0 to ${Math.min(an, bn)} (the operands have ${an} and ${bn} dimensions)`);
    }
    return [[...Array(axes).keys()].map((k) => an - axes + k), [...Array(axes).keys()]];
  }
  if (!Array.isArray(axes) || axes.length !== 2) throw invalid("INVALID_AXIS", `tensordot axes ${show(axes)} must be an integer or a pair of axis lists`);
  const list = (v: unknown, nd: number, which: string): number[] => {
    const xs = typeof v === "number" ? [v] : v;
    if (!Array.isArray(xs)) throw invalid("INVALID_AXIS", `tensordot axes for ${which} ${show(v)} must be an axis or a list of axes`);
    const out = xs.map((a) => {
      if (!Number.isInteger(a) || a < -nd || a >= nd) throw invalid("INVALID_AXIS", `tensordot axis ${show(a)} is out of range for ${which} of ${nd} dimensions`);
      return a < 0 ? a + nd : a;
    });
    if (new Set(out).size !== out.length) throw invalid("INVALID_AXIS", `tensordot axes for ${which} ${show(v)} repeat an axis`);
    return out;
  };
  const pa = list(axes[0], an, "the first operand");
  const pb = list(axes[1], bn, "the second operand");
  if (pa.length !== pb.length) throw invalid("INVALID_AXIS", `tensordot axes ${show(axes)}: ${pa.length} axes of the first operand against ${pb.length} of the second`);
  return [pa, pb];
}

/** numpy.tensordot: sums products over axes `ax` of a and `bx` of b; the result has a's other axes, then b's. */
export function tensordotOf(a: Chunked, b: Chunked, ax: readonly number[], bx: readonly number[]): Chunked {
  const as = a.node.shape;
  const bs = b.node.shape;
  ax.forEach((d, i) => {
    if (as[d] !== bs[bx[i]!]) {
      throw invalid("SHAPE_MISMATCH", `tensordot: axis ${d} of [${as.join(", ")}] has length ${as[d]}, axis ${bx[i]} of [${bs.join(", ")}] has ${bs[bx[i]!]}`);
    }
  });
  const freeA = as.map((_, d) => d).filter((d) => !ax.includes(d));
  const freeB = bs.map((_, d) => d).filter((d) => !bx.includes(d));
  const k = prod(ax.map((d) => as[d]!));
  const m = prod(freeA.map((d) => as[d]!));
  const n = prod(freeB.map((d) => bs[d]!));
  const am = reshaped(transposed(a, [...freeA, ...ax]), [m, k]);
  const bm = reshaped(transposed(b, [...bx, ...freeB]), [k, n]);
  const p = matmulOf(am, bm, "tensordot");
  return reshaped(p, [...freeA.map((d) => as[d]!), ...freeB.map((d) => bs[d]!)]);
}

/**
 * numpy.dot: with a 0-d operand a product; 1-d with 1-d an inner product; otherwise a sum over the last
 * axis of a and the second-to-last of b (the only one of a 1-d b).
 */
export function dotOf(a: Chunked, b: Chunked): Chunked {
  const an = a.node.shape.length;
  const bn = b.node.shape.length;
  if (an === 0 || bn === 0) return { node: binaryNode("mul", a.node, b.node), chunks: an === 0 ? b.chunks : a.chunks };
  if (bn <= 2 && an <= 2) return matmulOf(a, b, "dot");
  if (bn === 1) return matmulOf(a, b, "dot");
  return tensordotOf(a, b, [an - 1], [bn - 2]);
}

/** numpy.outer: a and b flattened, a[i] * b[j] (fused: no product is materialized). */
export function outerOf(a: Chunked, b: Chunked): Chunked {
  const fa = reshaped(a, [prod(a.node.shape)]);
  const fb = reshaped(b, [prod(b.node.shape)]);
  const col = expandDimsView(fa.node, 1);
  const row = expandDimsView(fb.node, 0);
  const node: Node = binaryNode("mul", col.node, row.node);
  return { node, chunks: [fa.chunks[0]!, fb.chunks[0]!] };
}
