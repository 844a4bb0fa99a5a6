/**
 * The method surface shared by ChunkedArray (lazy) and NDArray (eager): one definition of every
 * elementwise operation and reduction; subclasses decide what building a node means.
 */
import type { BinaryOp, Node, ReduceOp, UnaryOp } from "../graph/nodes.js";
import { invalid } from "../errors.js";
import { binaryNode, unaryNode, type ReduceOptions } from "./build.js";
import type { DType } from "../dtype.js";
import { sizeOf } from "./shape.js";

export abstract class ArrayBase<Other, Out, Reduced> {
  /** @internal */
  abstract get node(): Node;
  /** @internal operand node of another array (or a number) */
  protected abstract operand(o: Other | number, what: string): Node | number;
  /** @internal the result of an elementwise node computed from `sources` (this array, other arrays, numbers) */
  protected abstract wrap(node: Node, sources: unknown[]): Out;
  /** @internal the result of a reduction */
  protected abstract reduce(op: ReduceOp, opts?: ReduceOptions): Reduced;

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
}
