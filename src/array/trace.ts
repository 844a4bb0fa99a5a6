/**
 * Traced mapBlocks: a function that only applies elementwise array methods to its block (with numbers,
 * booleans or other results of the same kind) computes, on every block, exactly what that elementwise
 * expression computes on the whole array. So mapBlocks calls it once, here, on a stand-in block that
 * records what is done to it, and puts the recorded expression in the graph, where it fuses with the
 * rest (x.mapBlocks((b) => b.add(1)).sum() is x.add(1).sum()).
 *
 * Anything else makes the stand-in give up and mapBlocks runs the function on real blocks in the
 * workers, as before: reading values (data, get, toArray), reductions and views (they act per block),
 * the block's position (info.blockIndex, info.offset), its shape when blocks differ in shape, another
 * NDArray, an async function, or a result of another shape or dtype. Either way the values are the same,
 * bit for bit: eager NDArray methods and fused programs compute with the same kernels and rounding.
 */
import type { DType } from "../dtype.js";
import type { Chunks } from "../grid.js";
import { newId, type FillNode, type Node, type ReduceOp } from "../graph/nodes.js";
import { ArrayBase } from "./base.js";
import { scalarOperand } from "./build.js";
import type { Derived } from "./views.js";

/**
 * Globals a pure function of its block does not need: tracing rebuilds the function from its source in a
 * scope where they are undefined, so one that logs, counts, reads the clock, keeps state or exits (a
 * function with side effects, which must run once per block) fails to trace and runs on the real blocks.
 */
const IMPURE = [
  "process", "globalThis", "global", "require", "module", "console", "Atomics", "SharedArrayBuffer", "Buffer",
  "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "queueMicrotask", "fetch",
  "Date", "performance", "crypto", "Function", "WebAssembly", "Worker",
];
const PURE_MATH = Object.freeze(Object.fromEntries(Object.getOwnPropertyNames(Math).filter((k) => k !== "random").map((k) => [k, (Math as unknown as Record<string, unknown>)[k]])));

/** The function from its source (as the workers rebuild it: captured variables are gone), without impure globals. */
export function rebuildForTrace(src: string): ((...a: unknown[]) => unknown) | null {
  try {
    const f = new Function(...IMPURE, "Math", `"use strict"; return (${src});`)(...IMPURE.map(() => undefined), PURE_MATH) as unknown;
    return typeof f === "function" ? (f as (...a: unknown[]) => unknown) : null;
  } catch {
    return null;
  }
}

/** Thrown by the stand-in when the function does something tracing cannot follow. */
class Untraceable extends Error {}

const giveUp = (what: string): never => {
  throw new Untraceable(what);
};

/** The stand-in block: elementwise methods record nodes; everything else gives up. */
class TracedBlock extends ArrayBase<TracedBlock, TracedBlock, never> {
  constructor(
    private readonly n: Node,
    private readonly blockShape: number[] | null,
  ) {
    super();
  }

  get node(): Node {
    return this.n;
  }

  override get shape(): number[] {
    return this.blockShape ? [...this.blockShape] : giveUp("the shape of blocks that differ in shape");
  }
  override get size(): number {
    return this.blockShape ? this.blockShape.reduce((a, b) => a * b, 1) : giveUp("the size of blocks that differ in shape");
  }

  protected operand(o: TracedBlock | number, _what: string): Node | number {
    if (o instanceof TracedBlock) return o.node;
    if (typeof o === "number" || typeof o === "boolean") return scalarOperand(o, "operand");
    return giveUp("an operand that is not a number or the block");
  }
  protected wrap(node: Node): TracedBlock {
    return new TracedBlock(node, this.blockShape);
  }
  protected reduce(_op: ReduceOp): never {
    return giveUp("a reduction (it acts per block)");
  }
  protected reduced(): never {
    return giveUp("a reduction (it acts per block)");
  }
  protected derive(_build: (chunks: Chunks) => Derived): TracedBlock {
    return giveUp("a view or reshape (it acts per block)");
  }

  get data(): never {
    return giveUp("the block's values");
  }
  get(): never {
    return giveUp("get");
  }
  toArray(): never {
    return giveUp("toArray");
  }
  copy(): TracedBlock {
    return this;
  }
}

/** The expression with the stand-in replaced by the real input (shapes are the same: it had the input's). */
function substitute(n: Node, standIn: Node, input: Node, memo = new Map<number, Node>()): Node {
  if (n.id === standIn.id) return input;
  const have = memo.get(n.id);
  if (have) return have;
  if (n.kind !== "map") return n; // a constant (a boolean operand's 0-d fill)
  const out: Node = { ...n, id: newId(), args: n.args.map((a) => (typeof a === "number" ? a : substitute(a, standIn, input, memo))) };
  memo.set(n.id, out);
  return out;
}

/**
 * The graph of `fn` applied blockwise to `input`, if `fn` only does elementwise array work; null when
 * it must run on real blocks.
 */
export function traceBlocks(src: string, input: Node, chunks: Chunks, args: readonly unknown[], dtype: DType): Node | null {
  const fn = rebuildForTrace(src);
  if (!fn) return null;
  const uniform = chunks.every((c) => c.every((b) => b === c[0]));
  const blockShape = uniform ? chunks.map((c) => c[0] ?? 0) : null;
  const standIn: FillNode = { kind: "fill", id: newId(), shape: [...input.shape], dtype: input.dtype, value: 0 };
  const block = new TracedBlock(standIn, blockShape);
  const info = Object.freeze({
    get blockIndex(): never {
      return giveUp("info.blockIndex");
    },
    get offset(): never {
      return giveUp("info.offset");
    },
    args,
  });
  let result: unknown;
  try {
    result = fn(block, info);
  } catch {
    // the stand-in gave up, or the function failed on it: the real blocks decide (and report any error)
    return null;
  }
  if (!(result instanceof TracedBlock)) {
    if (result && typeof (result as Promise<unknown>).then === "function") (result as Promise<unknown>).then(undefined, () => {});
    return null;
  }
  const node = result.node;
  if (node.dtype !== dtype || node.shape.length !== input.shape.length || node.shape.some((s, d) => s !== input.shape[d])) return null;
  return substitute(node, standIn, input);
}
