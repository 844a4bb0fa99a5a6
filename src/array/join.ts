/**
 * Joining arrays: concatenate along an existing axis and stack along a new one, as numpy (dtypes promote;
 * every other axis must match). With any ChunkedArray among them the result is lazy, with dask's chunks:
 * the inputs' chunks along the axis, one after another, and their common refinement on the others.
 */
import { invalid, show } from "../errors.js";
import { resultType } from "../dtype.js";
import { newId, type ConcatNode, type Node } from "../graph/nodes.js";
import { unaryNode } from "./build.js";
import { ChunkedArray } from "./chunked.js";
import { unifyChunks } from "./chunks.js";
import { computeEager } from "./eager.js";
import { NDArray, fromRawResult } from "./ndarray.js";
import { axisOf } from "./views.js";

type Joinable = ChunkedArray | NDArray;

function checkList(arrays: unknown, fn: string): Joinable[] {
  if (!Array.isArray(arrays) || arrays.length === 0) throw invalid("INVALID_ARGUMENT", `${fn} takes a non-empty array of arrays, got ${show(arrays)}`);
  arrays.forEach((a, i) => {
    if (!(a instanceof ChunkedArray) && !(a instanceof NDArray)) throw invalid("INVALID_ARGUMENT", `${fn} input ${i} is ${show(a)}, not an array`);
  });
  return arrays as Joinable[];
}

function axisOption(opts: unknown, fn: string): number {
  if (opts === undefined) return 0;
  if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `${fn} options ${show(opts)} must be an object`);
  for (const k of Object.keys(opts)) if (k !== "axis") throw invalid("INVALID_ARGUMENT", `${fn} has no option ${show(k)}; it takes axis`);
  return (opts as { axis?: number }).axis ?? 0;
}

const chunksOf = (a: Joinable) => (a instanceof ChunkedArray ? a.chunks : a.shape.map((n) => [n]));

/** numpy.concatenate(arrays, axis): joined along an existing axis. */
export function concatenate(arrays: readonly Joinable[], opts?: { axis?: number }): ChunkedArray | NDArray {
  const list = checkList(arrays, "concatenate");
  const nd = list[0]!.ndim;
  if (nd === 0) throw invalid("INVALID_SHAPE", "zero-dimensional arrays cannot be concatenated");
  const axis = axisOf(axisOption(opts, "concatenate"), nd, "concatenate axis");
  list.forEach((a, i) => {
    if (a.ndim !== nd) throw invalid("SHAPE_MISMATCH", `concatenate input ${i} has ${a.ndim} dimensions, input 0 has ${nd}`);
    a.shape.forEach((n, d) => {
      if (d !== axis && n !== list[0]!.shape[d]) {
        throw invalid("SHAPE_MISMATCH", `concatenate input ${i} has shape [${a.shape.join(", ")}], input 0 [${list[0]!.shape.join(", ")}]: they differ on axis ${d}, not only on the concatenation axis ${axis}`);
      }
    });
  });
  const dtype = resultType(list.map((a) => a.dtype));
  const inputs: Node[] = list.map((a) => (a.dtype === dtype ? a.node : unaryNode("astype", a.node, dtype)));
  const shape = list[0]!.shape.map((n, d) => (d === axis ? list.reduce((s, a) => s + a.shape[d]!, 0) : n));
  // other axes: the common refinement of every input's chunks; the axis: theirs, one after another
  const others = unifyChunks(shape.map((n, d) => (d === axis ? 1 : n)), list.map((a) => ({ shape: a.shape.map((n, d) => (d === axis ? 1 : n)), chunks: chunksOf(a).map((c, d) => (d === axis ? [1] : c)) })));
  const along = list.flatMap((a) => (a.shape[axis] === 0 ? [] : chunksOf(a)[axis]!));
  const chunks = others.map((c, d) => (d === axis ? (along.length ? along : [0]) : c));
  const node: ConcatNode = { kind: "concat", id: newId(), inputs, axis, shape, dtype, chunks };
  if (!list.some((a) => a instanceof ChunkedArray)) {
    const [r] = computeEager([{ node, chunks: shape.map((n) => [n]) }]);
    return fromRawResult(r!, node.dtype);
  }
  return new ChunkedArray(node, chunks);
}

/** numpy.stack(arrays, axis): joined along a new axis (every input has the same shape). */
export function stack(arrays: readonly Joinable[], opts?: { axis?: number }): ChunkedArray | NDArray {
  const list = checkList(arrays, "stack");
  const shape = list[0]!.shape;
  list.forEach((a, i) => {
    if (a.ndim !== shape.length || a.shape.some((n, d) => n !== shape[d])) {
      throw invalid("SHAPE_MISMATCH", `stack input ${i} has shape [${a.shape.join(", ")}], input 0 [${shape.join(", ")}]: stacked arrays must have the same shape`);
    }
  });
  const axis = axisOf(axisOption(opts, "stack"), shape.length + 1, "stack axis");
  return concatenate(list.map((a) => a.expandDims(axis)) as Joinable[], { axis });
}
