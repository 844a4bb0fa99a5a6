/**
 * The method surface shared by ChunkedArray (lazy) and NDArray (eager): one definition of every
 * elementwise operation and reduction; subclasses decide what building a node means.
 */
import type { BinaryOp, Node, ReduceOp, UnaryOp } from "../graph/nodes.js";
import { invalid, show } from "../errors.js";
import { binaryNode, checkReduceOptions, unaryNode, whereNode, type ReduceOptions } from "./build.js";
import { nanReduction, type NanOp, type Reducer } from "./nan-reductions.js";
import type { Chunks } from "../grid.js";
import { isFloat, type DType } from "../dtype.js";
import { checkShape, sizeOf } from "./shape.js";
import { parseSelectors } from "./selectors.js";
import { reshapeOf } from "./reshape.js";
import { takeOf, type TakeIndices } from "./take.js";
import { diffOf, scanOf, type DiffOptions, type ScanOptions } from "./scans.js";
import { checkOptions } from "./options.js";
import {
  broadcastView, diagonalView, expandDimsView, flipView, indexView, moveaxisView, squeezeView, swapaxesView, transposeView,
  type Derived, type DiagonalOptions,
} from "./views.js";

export interface TraceOptions extends DiagonalOptions {
  /** the dtype to sum in: float64 or float32 (default: as sum, float32 stays float32, int32 and bool give float64) */
  dtype?: DType;
}

export abstract class ArrayBase<Other, Out, Reduced> {
  /** @internal */
  abstract get node(): Node;
  /** @internal operand node of another array (or a number) */
  protected abstract operand(o: Other | number, what: string): Node | number;
  /** @internal the result of an elementwise node computed from `sources` (this array, other arrays, numbers) */
  protected abstract wrap(node: Node, sources: unknown[]): Out;
  /** @internal the result of a reduction */
  protected abstract reduce(op: ReduceOp, opts?: ReduceOptions): Reduced;
  /**
   * @internal a result shaped as a reduction, built from reductions of nodes shaped as this array (with
   * this array's chunks) and elementwise operations on them (the nan-reductions)
   */
  protected abstract reduced(axes: number[], keepdims: boolean, build: (reduce: Reducer) => Node): Reduced;
  /** @internal an array derived from this one (views, reshape, take): `build` gets this array's chunks */
  protected abstract derive(build: (chunks: Chunks) => Derived): Out;

  get shape(): number[] {
    return [...this.node.shape];
  }
  get dtype(): DType {
    return this.node.dtype;
  }
  get ndim(): number {
    return this.node.shape.length;
  }
  get size(): number {
    return sizeOf(this.node.shape);
  }

  private bin(op: BinaryOp, o: Other | number): Out {
    const b = this.operand(o, op);
    return this.wrap(binaryNode(op, this.node, b), [this, o]);
  }
  private un(op: UnaryOp, to?: DType): Out {
    return this.wrap(unaryNode(op, this.node, to), [this]);
  }

  add(o: Other | number): Out { return this.bin("add", o); }
  sub(o: Other | number): Out { return this.bin("sub", o); }
  mul(o: Other | number): Out { return this.bin("mul", o); }
  div(o: Other | number): Out { return this.bin("div", o); }
  pow(o: Other | number): Out { return this.bin("pow", o); }
  maximum(o: Other | number): Out { return this.bin("maximum", o); }
  minimum(o: Other | number): Out { return this.bin("minimum", o); }
  eq(o: Other | number): Out { return this.bin("eq", o); }
  ne(o: Other | number): Out { return this.bin("ne", o); }
  lt(o: Other | number): Out { return this.bin("lt", o); }
  le(o: Other | number): Out { return this.bin("le", o); }
  gt(o: Other | number): Out { return this.bin("gt", o); }
  ge(o: Other | number): Out { return this.bin("ge", o); }

  neg(): Out { return this.un("neg"); }
  abs(): Out { return this.un("abs"); }
  sqrt(): Out { return this.un("sqrt"); }
  exp(): Out { return this.un("exp"); }
  log(): Out { return this.un("log"); }
  sin(): Out { return this.un("sin"); }
  cos(): Out { return this.un("cos"); }
  tanh(): Out { return this.un("tanh"); }
  floor(): Out { return this.un("floor"); }
  ceil(): Out { return this.un("ceil"); }
  /** logical not: true where the value is 0 */
  not(): Out { return this.un("not"); }
  isnan(): Out { return this.un("isnan"); }
  astype(dtype: DType): Out { return this.un("astype", dtype); }

  // more ufuncs, with numpy's dtype rules (float functions of integers give float64)
  tan(): Out { return this.un("tan"); }
  arcsin(): Out { return this.un("arcsin"); }
  arccos(): Out { return this.un("arccos"); }
  arctan(): Out { return this.un("arctan"); }
  sinh(): Out { return this.un("sinh"); }
  cosh(): Out { return this.un("cosh"); }
  arcsinh(): Out { return this.un("arcsinh"); }
  arccosh(): Out { return this.un("arccosh"); }
  arctanh(): Out { return this.un("arctanh"); }
  log1p(): Out { return this.un("log1p"); }
  expm1(): Out { return this.un("expm1"); }
  log2(): Out { return this.un("log2"); }
  log10(): Out { return this.un("log10"); }
  exp2(): Out { return this.un("exp2"); }
  /** -1, 0 or 1 (NaN stays NaN; -0 gives 0), as numpy */
  sign(): Out { return this.un("sign"); }
  isinf(): Out { return this.un("isinf"); }
  /** round to the nearest integer, ties to even (numpy.rint) */
  rint(): Out { return this.un("rint"); }
  isfinite(): Out { return this.un("isfinite"); }
  arctan2(o: Other | number): Out { return this.bin("arctan2", o); }
  hypot(o: Other | number): Out { return this.bin("hypot", o); }
  /** numpy.mod / remainder: the result has the divisor's sign (Python's %); for integers x % 0 is 0 */
  mod(o: Other | number): Out { return this.bin("mod", o); }
  remainder(o: Other | number): Out { return this.bin("mod", o); }
  /** numpy.floor_divide (//): the integer at or below a / b; for integers x // 0 is 0 */
  floorDivide(o: Other | number): Out { return this.bin("floorDivide", o); }
  /** maximum and minimum that ignore NaN (NaN only where both are NaN) */
  fmax(o: Other | number): Out { return this.bin("fmax", o); }
  fmin(o: Other | number): Out { return this.bin("fmin", o); }

  /** x * x (bool gives int32, as numpy's integer result) */
  square(): Out {
    const n = this.node.dtype === "bool" ? unaryNode("astype", this.node, "int32") : this.node;
    return this.wrap(binaryNode("mul", n, n), [this]);
  }

  /** 1 / x; for integers, C's integer division: 1 for 1, -1 for -1, else 0 (and -2^31 for 0, as numpy) */
  reciprocal(): Out {
    const n = this.node;
    if (isFloat(n.dtype)) return this.wrap(binaryNode("div", 1, n), [this]);
    if (n.dtype === "bool") return this.wrap(unaryNode("astype", n, "int32"), [this]); // numpy: 1 / False is 0
    const unit = whereNode(binaryNode("eq", unaryNode("abs", n), 1), n, 0);
    return this.wrap(whereNode(binaryNode("eq", n, 0), -(2 ** 31), unit), [this]);
  }

  /** numpy.round: half to even at `decimals` digits (negative: tens, hundreds...); integers stay integers */
  round(decimals = 0): Out {
    if (typeof decimals !== "number" || !Number.isInteger(decimals) || Math.abs(decimals) > 308) {
      throw invalid("INVALID_ARGUMENT", `round decimals ${show(decimals)} must be an integer`);
    }
    const n = this.node;
    if (!isFloat(n.dtype)) {
      if (decimals >= 0) return this.wrap(unaryNode("astype", n, n.dtype), [this]);
      const f = 10 ** -decimals;
      const r = unaryNode("rint", binaryNode("div", unaryNode("astype", n, "float64"), f));
      return this.wrap(unaryNode("astype", binaryNode("mul", r, f), n.dtype === "bool" ? "int32" : n.dtype), [this]);
    }
    if (decimals === 0) return this.un("rint");
    const f = 10 ** Math.abs(decimals);
    const scaled = binaryNode(decimals > 0 ? "mul" : "div", n, f);
    return this.wrap(binaryNode(decimals > 0 ? "div" : "mul", unaryNode("rint", scaled), f), [this]);
  }

  /** elementwise truth: x != 0 and y != 0 (NaN is true), a bool array */
  logicalAnd(o: Other | number): Out { return this.logical("mul", o); }
  logicalOr(o: Other | number): Out { return this.logical("maximum", o); }
  logicalXor(o: Other | number): Out { return this.logical("ne", o); }

  private logical(op: BinaryOp, o: Other | number): Out {
    const truth = (x: Node | number) => (typeof x === "number" ? (x !== 0 ? 1 : 0) : unaryNode("astype", x, "bool"));
    const b = this.operand(o, op);
    const node = binaryNode(op, truth(this.node), truth(typeof b === "number" ? b : b));
    // numbers are weak: the result is bool either way
    return this.wrap(typeof b === "number" ? binaryNode("ne", node, 0) : node, [this, o]);
  }

  /** numpy.clip: minimum(maximum(x, lo), hi); NaN propagates. A bound of null is no bound (not both). */
  clip(lo: Other | number | null, hi: Other | number | null): Out {
    if (lo === null && hi === null) throw invalid("INVALID_ARGUMENT", "clip needs a lower or an upper bound (both are null)");
    let node: Node = this.node;
    if (lo !== null) node = binaryNode("maximum", node, this.operand(lo, "clip lower bound"));
    if (hi !== null) node = binaryNode("minimum", node, this.operand(hi, "clip upper bound"));
    return this.wrap(node, [this, lo, hi]);
  }

  sum(opts?: ReduceOptions): Reduced { return this.reduce("sum", opts); }
  prod(opts?: ReduceOptions): Reduced { return this.reduce("prod", opts); }
  mean(opts?: ReduceOptions): Reduced { return this.reduce("mean", opts); }
  min(opts?: ReduceOptions): Reduced { return this.reduce("min", opts); }
  max(opts?: ReduceOptions): Reduced { return this.reduce("max", opts); }
  /** variance with `ddof` delta degrees of freedom (default 0, as numpy) */
  var(opts?: ReduceOptions): Reduced { return this.reduce("var", opts); }
  std(opts?: ReduceOptions): Reduced { return this.reduce("std", opts); }
  argmin(opts?: Omit<ReduceOptions, "axis"> & { axis?: number }): Reduced { return this.reduce("argmin", opts); }
  argmax(opts?: Omit<ReduceOptions, "axis"> & { axis?: number }): Reduced { return this.reduce("argmax", opts); }
  any(opts?: ReduceOptions): Reduced { return this.reduce("any", opts); }
  all(opts?: ReduceOptions): Reduced { return this.reduce("all", opts); }

  // nan-reductions: NaN is left out (all-NaN slices as numpy: nansum 0, nanprod 1, the others NaN, nanarg* an error)
  nansum(opts?: ReduceOptions): Reduced { return this.nan("nansum", opts); }
  nanprod(opts?: ReduceOptions): Reduced { return this.nan("nanprod", opts); }
  nanmean(opts?: ReduceOptions): Reduced { return this.nan("nanmean", opts); }
  nanvar(opts?: ReduceOptions): Reduced { return this.nan("nanvar", opts); }
  nanstd(opts?: ReduceOptions): Reduced { return this.nan("nanstd", opts); }
  nanmin(opts?: ReduceOptions): Reduced { return this.nan("nanmin", opts); }
  nanmax(opts?: ReduceOptions): Reduced { return this.nan("nanmax", opts); }
  nanargmin(opts?: Omit<ReduceOptions, "axis"> & { axis?: number }): Reduced { return this.nan("nanargmin", opts); }
  nanargmax(opts?: Omit<ReduceOptions, "axis"> & { axis?: number }): Reduced { return this.nan("nanargmax", opts); }

  private nan(op: NanOp, opts: ReduceOptions = {}): Reduced {
    const { axes, keepdims } = checkReduceOptions(op, this.node.shape, opts);
    return this.reduced(axes, keepdims, (reduce) => nanReduction(op, this.node, opts, reduce));
  }

  // ---- scans and differences (numpy's; a scan is one sequential pass in element order, for any chunking)

  /** Running sums along `axis` (of the flattened array without one). */
  cumsum(opts?: ScanOptions): Out {
    return this.derive((chunks) => scanOf("cumsum", this.node, chunks, opts));
  }

  /** Running products along `axis` (of the flattened array without one). */
  cumprod(opts?: ScanOptions): Out {
    return this.derive((chunks) => scanOf("cumprod", this.node, chunks, opts));
  }

  /** The n-th difference along `axis` (default the last): a[i + 1] - a[i], n times. */
  diff(opts?: DiffOptions): Out {
    return this.derive(() => diffOf(this.node, opts));
  }

  // ---- views and movement (numpy's semantics; lazy on ChunkedArray, computed at once on NDArray)

  /**
   * numpy indexing: integers (negative from the end; the axis is dropped), slice(start, stop, step), null
   * for a whole axis, newaxis, "..." and one 1-d integer array (a take along that axis).
   */
  protected indexed(selectors: readonly unknown[]): Out {
    const p = parseSelectors(this.shape, selectors);
    const array = p.axes.findIndex((a) => a.kind === "array");
    return this.derive((chunks) => {
      const { derived, arrayAxis } = indexView(this.node, p);
      if (array < 0) return derived;
      const viewChunks = derived.chunksOf(chunks);
      const taken = takeOf(derived.node, viewChunks, (p.axes[array] as { value: unknown }).value, arrayAxis);
      // the take's chunks follow from the view's, not from this array's
      return { node: taken.node, chunksOf: () => taken.chunksOf(viewChunks) };
    });
  }

  /** Elements at `indices` along `axis` (default: of the flattened array, as numpy). */
  take(indices: TakeIndices, opts: { axis?: number } = {}): Out {
    if (opts === null || typeof opts !== "object") throw invalid("INVALID_ARGUMENT", `take options ${show(opts)} must be an object`);
    for (const k of Object.keys(opts)) if (k !== "axis") throw invalid("INVALID_ARGUMENT", `take has no option ${show(k)}; it takes axis`);
    if (opts.axis === undefined) return (this.ravel() as unknown as ArrayBase<Other, Out, Reduced>).take(indices, { axis: 0 });
    const nd = this.ndim;
    const a = opts.axis;
    if (typeof a !== "number" || !Number.isInteger(a) || a < -nd || a >= nd) throw invalid("INVALID_AXIS", `take axis ${show(a)} is out of bounds for an array of dimension ${nd}`);
    return this.derive((chunks) => takeOf(this.node, chunks, indices, a < 0 ? a + nd : a));
  }

  /** The same elements in another shape, C order; one axis may be -1 (dask's rules for the chunks). */
  reshape(...shape: (number | readonly number[])[]): Out {
    const s = shape.length === 1 && Array.isArray(shape[0]) ? [...(shape[0] as number[])] : (shape as number[]);
    return this.derive((chunks) => reshapeOf(this.node, chunks, s));
  }

  ravel(): Out {
    return this.reshape([-1]);
  }

  /** Axes permuted: output axis d is input axis axes[d] (default: reversed). */
  transpose(...axes: (number | readonly number[])[]): Out {
    const perm = axes.length === 0 ? undefined : axes.length === 1 && Array.isArray(axes[0]) ? [...(axes[0] as number[])] : (axes as number[]);
    return this.derive(() => transposeView(this.node, perm));
  }

  /** The transpose (axes reversed). */
  get T(): Out {
    return this.transpose();
  }

  swapaxes(a: number, b: number): Out {
    return this.derive(() => swapaxesView(this.node, a, b));
  }

  moveaxis(source: number | readonly number[], destination: number | readonly number[]): Out {
    return this.derive(() => moveaxisView(this.node, source, destination));
  }

  squeeze(axis?: number | readonly number[]): Out {
    return this.derive(() => squeezeView(this.node, axis));
  }

  expandDims(axis: number | readonly number[]): Out {
    return this.derive(() => expandDimsView(this.node, axis));
  }

  broadcastTo(shape: readonly number[]): Out {
    const s = checkShape(shape, "broadcastTo shape");
    return this.derive(() => broadcastView(this.node, s));
  }

  /** Reversed along `axis` (default: every axis). */
  flip(axis?: number | readonly number[]): Out {
    return this.derive(() => flipView(this.node, axis));
  }

  /**
   * numpy's diagonal: the elements at (i + max(0, -offset), i + max(0, offset)) of axis1 and axis2 (default
   * 0 and 1), as the last axis after the other axes. A view (no copy).
   */
  diagonal(opts?: DiagonalOptions): Out {
    return this.derive(() => diagonalView(this.node, opts));
  }

  /** numpy's trace: the sum along diagonal(opts) (a number for a 2-d array); dtypes as sum's. */
  trace(opts?: TraceOptions): Reduced {
    const { dtype, ...diagonal } = checkOptions<TraceOptions>(opts, ["offset", "axis1", "axis2", "dtype"], "trace");
    if (dtype !== undefined && dtype !== "float64" && dtype !== "float32") {
      throw invalid("INVALID_DTYPE", `trace dtype ${show(dtype)} is not supported: sums are float64 or float32 (int32 and bool sums are float64, exact to 2^53, as sum's)`);
    }
    const d = this.derive(() => diagonalView(this.node, diagonal, "trace")) as unknown as ArrayBase<Other, Out, Reduced>;
    return (dtype === undefined ? d : (d.astype(dtype) as unknown as ArrayBase<Other, Out, Reduced>)).sum({ axis: -1 });
  }
}
