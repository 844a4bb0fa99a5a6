/**
 * numpy.einsum for the contractions that tensordot and broadcasting express: "ij,jk->ik", "bij,bjk->bik",
 * "i,j->ij", "ij->ji", "ij->", "...ij,...jk->...ik" (implicit output too: the indices seen once, in
 * alphabetical order, after the ellipsis axes). Indices that only one operand has and the output lacks
 * are summed first; operands are then combined left to right, each pair as one batched matmul (or, with
 * nothing to contract, one fused broadcast product). An index repeated within one operand (a diagonal,
 * "ii->i") is not a contraction: use diagonal() and trace().
 */
import { invalid, show } from "../errors.js";
import { resultType, type DType } from "../dtype.js";
import { binaryNode, reduceNode } from "./build.js";
import { chunkedOperand } from "./chunked.js";
import { reshaped, transposed } from "./contract.js";
import { fromFloatSums, matmulOf, type Chunked } from "./matmul.js";
import { resultOf, type ArrayLike } from "./products.js";
import { expandDimsView } from "./views.js";

/** An operand during the contraction: its array and one label per axis. */
interface Labeled {
  x: Chunked;
  labels: string[];
}

const ELLIPSIS_LABEL = (k: number) => `…${k}`;
const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Parses the spec into per-operand labels and the output's (ellipsis axes as labels of their own). */
export function parseEinsum(spec: unknown, ndims: readonly number[]): { inputs: string[][]; output: string[] } {
  if (typeof spec !== "string") throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)} must be a string such as "ij,jk->ik"`);
  const s = spec.replace(/\s+/g, "");
  const arrow = s.indexOf("->");
  if (arrow !== s.lastIndexOf("->")) throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)} has more than one "->"`);
  const lhs = arrow < 0 ? s : s.slice(0, arrow);
  const terms = lhs.split(",");
  if (terms.length !== ndims.length) {
    throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)} names ${terms.length} operand${terms.length === 1 ? "" : "s"}, but ${ndims.length} ${ndims.length === 1 ? "was" : "were"} given`);
  }
  const letters = (t: string, what: string): string[] => {
    const out: string[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t.startsWith("...", i)) {
        out.push("...");
        i += 2;
      } else if (/[a-zA-Z]/.test(t[i]!)) out.push(t[i]!);
      else throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: ${show(t[i])} in ${what} is not an index letter`);
    }
    if (out.filter((l) => l === "...").length > 1) throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: ${what} has more than one "..."`);
    return out;
  };
  let ellipsis = 0;
  const inputs = terms.map((t, i) => {
    const ls = letters(t, `operand ${i}`);
    const named = ls.filter((l) => l !== "...").length;
    const has = ls.includes("...");
    if (has ? named > ndims[i]! : named !== ndims[i]) {
      throw invalid("SHAPE_MISMATCH", `einsum spec ${show(spec)}: operand ${i} has ${ndims[i]} dimensions but ${show(t)} names ${named}${has ? " and more" : ""}`);
    }
    const e = ndims[i]! - named;
    if (has) ellipsis = Math.max(ellipsis, e);
    return { ls, e };
  });
  const expand = (ls: string[], e: number) => ls.flatMap((l) => (l === "..." ? [...Array(e).keys()].map((k) => ELLIPSIS_LABEL(ellipsis - e + k)) : [l]));
  const ins = inputs.map(({ ls, e }) => {
    const labels = expand(ls, e);
    const seen = new Set<string>();
    for (const l of labels) {
      if (seen.has(l)) throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: index ${show(l)} repeats within one operand (a diagonal): use diagonal() or trace()`);
      seen.add(l);
    }
    return labels;
  });
  const ellipsisLabels = [...Array(ellipsis).keys()].map(ELLIPSIS_LABEL);
  let output: string[];
  if (arrow < 0) {
    const count = new Map<string, number>();
    for (const ls of ins) for (const l of ls) if (!l.startsWith("…")) count.set(l, (count.get(l) ?? 0) + 1);
    output = [...ellipsisLabels, ...[...count].filter(([, c]) => c === 1).map(([l]) => l).sort()];
  } else {
    const ls = letters(s.slice(arrow + 2), "the output");
    if (!ls.includes("...") && ellipsis > 0 && ins.some((x) => x.some((l) => l.startsWith("…")))) {
      throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: the operands have "..." axes but the output does not place them`);
    }
    output = ls.flatMap((l) => (l === "..." ? ellipsisLabels : [l]));
    const seen = new Set<string>();
    for (const l of output) {
      if (seen.has(l)) throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: output index ${show(l)} appears twice`);
      if (!ins.some((x) => x.includes(l))) throw invalid("INVALID_ARGUMENT", `einsum spec ${show(spec)}: output index ${show(l)} is in no operand`);
      seen.add(l);
    }
  }
  return { inputs: ins, output };
}

/** Sums the axes whose labels are not in `keep`. */
function sumOthers(o: Labeled, keep: ReadonlySet<string>, dtype: DType): Labeled {
  const axes = o.labels.flatMap((l, d) => (keep.has(l) ? [] : [d]));
  if (!axes.length) return o;
  const r = reduceNode("sum", o.x.node, o.x.chunks, { axis: axes });
  return { x: { node: fromFloatSums(r.node, dtype), chunks: r.chunks }, labels: o.labels.filter((l) => keep.has(l)) };
}

/** x's axes reordered to `labels` (all of x's), with axes of length 1 added for labels x lacks. */
function arranged(o: Labeled, labels: readonly string[]): Chunked {
  const own = labels.filter((l) => o.labels.includes(l));
  let x = transposed(o.x, own.map((l) => o.labels.indexOf(l)));
  const missing = labels.flatMap((l, d) => (o.labels.includes(l) ? [] : [d]));
  if (missing.length) {
    const d = expandDimsView(x.node, missing);
    x = { node: d.node, chunks: d.chunksOf(x.chunks) };
  }
  return x;
}

/** One pairwise step: batch labels in both and kept, contracted labels in both and not kept. */
function combine(p: Labeled, q: Labeled, keep: ReadonlySet<string>, dtype: DType): Labeled {
  const batch = p.labels.filter((l) => q.labels.includes(l) && keep.has(l));
  const contracted = p.labels.filter((l) => q.labels.includes(l) && !keep.has(l));
  const freeP = p.labels.filter((l) => !q.labels.includes(l));
  const freeQ = q.labels.filter((l) => !p.labels.includes(l));
  const labels = [...batch, ...freeP, ...freeQ];
  if (!contracted.length) {
    // nothing to sum: a broadcast product, fused into whatever reads it
    const a = arranged(p, labels);
    const b = arranged(q, labels);
    return { x: { node: binaryNode("mul", a.node, b.node), chunks: labels.map((l, d) => (p.labels.includes(l) && a.node.shape[d] !== 1 ? a.chunks[d]! : b.chunks[d]!)) }, labels };
  }
  const size = (o: Labeled, l: string) => o.x.node.shape[o.labels.indexOf(l)]!;
  const bp = batch.map((l) => size(p, l));
  const bq = batch.map((l) => size(q, l));
  const m = prod(freeP.map((l) => size(p, l)));
  const k = prod(contracted.map((l) => size(p, l)));
  const n = prod(freeQ.map((l) => size(q, l)));
  const a = reshaped(transposed(p.x, [...batch, ...freeP, ...contracted].map((l) => p.labels.indexOf(l))), [...bp, m, k]);
  const b = reshaped(transposed(q.x, [...batch, ...contracted, ...freeQ].map((l) => q.labels.indexOf(l))), [...bq, k, n]);
  const r = matmulOf(a, b, "einsum");
  const outBatch = batch.map((_, i) => Math.max(bp[i]!, bq[i]!));
  const x = reshaped({ node: fromFloatSums(r.node, dtype), chunks: r.chunks }, [...outBatch, ...freeP.map((l) => size(p, l)), ...freeQ.map((l) => size(q, l))]);
  return { x, labels };
}

/** numpy.einsum(spec, ...operands), for contractions (see the module comment). */
export function einsum(spec: string, ...operands: ArrayLike[]): ReturnType<typeof resultOf> {
  if (!operands.length) throw invalid("INVALID_ARGUMENT", "einsum takes at least one operand");
  const xs = operands.map((o, i) => chunkedOperand(o, `einsum operand ${i}`));
  const { inputs, output } = parseEinsum(spec, xs.map((x) => x.node.shape.length));
  const dtype = resultType(xs.map((x) => x.node.dtype));
  // every index's length, checked across operands (ellipsis axes broadcast: 1 against n)
  const sizes = new Map<string, number>();
  inputs.forEach((ls, i) =>
    ls.forEach((l, d) => {
      const n = xs[i]!.node.shape[d]!;
      const had = sizes.get(l);
      if (had === undefined || (l.startsWith("…") && had === 1)) sizes.set(l, n);
      else if (had !== n && !(l.startsWith("…") && n === 1)) {
        throw invalid("SHAPE_MISMATCH", `einsum ${show(spec)}: index ${show(l.startsWith("…") ? "..." : l)} has length ${had} in one operand and ${n} in operand ${i}`);
      }
    }),
  );
  let ops: Labeled[] = xs.map((x, i) => ({ x, labels: inputs[i]! }));
  const keepFor = (rest: readonly Labeled[]) => new Set([...output, ...rest.flatMap((o) => o.labels)]);
  // indices only one operand has and nothing else needs: summed before any product
  ops = ops.map((o, i) => sumOthers(o, keepFor(ops.filter((_, j) => j !== i)), dtype));
  let acc = ops[0]!;
  for (let i = 1; i < ops.length; i++) acc = sumOthers(combine(acc, ops[i]!, keepFor(ops.slice(i + 1)), dtype), keepFor(ops.slice(i + 1)), dtype);
  let out = transposed(acc.x, output.map((l) => acc.labels.indexOf(l)));
  if (out.node.dtype !== dtype) out = { node: fromFloatSums(out.node, dtype), chunks: out.chunks };
  return resultOf(out, operands);
}
