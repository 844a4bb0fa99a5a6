/**
 * numpy's matmul as a graph node (graph/nodes.ts MatmulNode), with dask's chunks: shapes, broadcasting
 * of the batch axes, dtypes and the chunks both operands are materialized on. Shared by the methods of
 * ChunkedArray and NDArray and by the functions built on it (products.ts, einsum.ts).
 */
import { invalid } from "../errors.js";
import { isVirtual, newId, type MapNode, type MatmulNode, type Node } from "../graph/nodes.js";
import { resultType, type DType } from "../dtype.js";
import { binaryNode, unaryNode } from "./build.js";
import type { Chunks } from "./chunks.js";
import { expandDimsView, squeezeView } from "./views.js";

/** An operand: its node and the chunks it is cut into (an NDArray: one chunk). */
export interface Chunked {
  node: Node;
  chunks: Chunks;
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Prepends axes of length 1 until `nd` dimensions. */
function padTo(x: Chunked, nd: number): Chunked {
  const lead = nd - x.node.shape.length;
  if (lead <= 0) return x;
  const d = expandDimsView(x.node, [...Array(lead).keys()]);
  return { node: d.node, chunks: d.chunksOf(x.chunks) };
}

/** The dtype numpy's matmul gives for these operands, and the float dtype the product is computed in. */
export function matmulTypes(a: DType, b: DType): { result: DType; compute: "float64" | "float32" } {
  const result = resultType([a, b]);
  return { result, compute: result === "float32" ? "float32" : "float64" };
}

/**
 * Sums computed in float64 as numpy's integer or bool results: int32 wrapped as numpy's int32 arithmetic
 * (exact while the sums stay below 2^53; an int32 add of 0 wraps, graph/emit.ts), bool as sum != 0.
 */
export function fromFloatSums(sums: Node, result: DType): Node {
  if (result === "int32") return { kind: "map", id: newId(), op: "add", args: [sums, 0], shape: sums.shape, dtype: "int32" } satisfies MapNode;
  if (result === "bool") return binaryNode("ne", sums, 0);
  if (result !== sums.dtype) return unaryNode("astype", sums, result);
  return sums;
}

/**
 * a @ b: 1-d operands are promoted (a to a row [1, K], b to a column [K, 1]) and the added axis removed
 * from the result, as numpy; batch axes broadcast. The contraction axis takes the chunks of the operand
 * that is materialized already (a's when both or neither are), so only the other one is cut to match.
 */
export function matmulOf(a0: Chunked, b0: Chunked, what = "matmul"): Chunked {
  for (const [x, i] of [[a0, 0], [b0, 1]] as const) {
    if (x.node.shape.length === 0) throw invalid("INVALID_SHAPE", `${what}: operand ${i} is 0-dimensional (shape []): matmul needs arrays of 1 or more dimensions; use mul for scalars`);
  }
  const aVec = a0.node.shape.length === 1;
  const bVec = b0.node.shape.length === 1;
  let a = a0;
  let b = b0;
  if (aVec) a = padTo(a, 2);
  if (bVec) {
    const d = expandDimsView(b.node, 1);
    b = { node: d.node, chunks: d.chunksOf(b.chunks) };
  }
  const nd = Math.max(a.node.shape.length, b.node.shape.length);
  a = padTo(a, nd);
  b = padTo(b, nd);
  const as = a.node.shape;
  const bs = b.node.shape;
  const k = as[nd - 1]!;
  if (bs[nd - 2] !== k) {
    throw invalid(
      "SHAPE_MISMATCH",
      `${what}: shapes ${shapeText(a0.node.shape)} and ${shapeText(b0.node.shape)} do not line up: the contracted dimension is ${k} in the first and ${bs[nd - 2]} in the second`,
    );
  }
  const batch: number[] = [];
  for (let d = 0; d < nd - 2; d++) {
    const x = as[d]!;
    const y = bs[d]!;
    if (x !== y && x !== 1 && y !== 1) {
      throw invalid("SHAPE_MISMATCH", `${what}: the batch axes of ${shapeText(a0.node.shape)} and ${shapeText(b0.node.shape)} do not broadcast (axis ${d}: ${x} vs ${y})`);
    }
    batch.push(x === 1 ? y : x);
  }
  const { result, compute } = matmulTypes(a.node.dtype, b.node.dtype);
  const kChunks = isVirtual(a.node) && !isVirtual(b.node) ? b.chunks[nd - 2]! : a.chunks[nd - 1]!;
  const batchChunks = batch.map((n, d) => (as[d] !== 1 ? a.chunks[d]! : bs[d] !== 1 ? b.chunks[d]! : [1]));
  const operandChunks = (s: readonly number[]) => batchChunks.map((c, d) => (s[d] === 1 ? [1] : c));
  const aChunks = [...operandChunks(as), a.chunks[nd - 2]!, kChunks];
  const bChunks = [...operandChunks(bs), kChunks, b.chunks[nd - 1]!];
  const chunks = [...batchChunks, a.chunks[nd - 2]!, b.chunks[nd - 1]!];
  const cast = (n: Node) => (n.dtype === compute ? n : unaryNode("astype", n, compute));
  const product: MatmulNode = {
    kind: "matmul", id: newId(), a: cast(a.node), b: cast(b.node), aChunks, bChunks, chunks,
    shape: [...batch, as[nd - 2]!, bs[nd - 1]!], dtype: compute,
  };
  let out: Chunked = { node: fromFloatSums(product, result), chunks };
  const drop = [...(aVec ? [nd - 2] : []), ...(bVec ? [nd - 1] : [])];
  if (drop.length) {
    const d = squeezeView(out.node, drop);
    out = { node: d.node, chunks: d.chunksOf(out.chunks) };
  }
  return out;
}
