/**
 * NDArray: an eager, single-block, C-contiguous array. Operations run at once, in this thread, on the
 * same fused kernels as chunked arrays. mapBlocks functions receive and return NDArrays.
 */
import { TesseraError, invalid, show } from "../errors.js";
import type { DataNode, Node, ReduceOp } from "../graph/nodes.js";
import { newId } from "../graph/nodes.js";
import type { RawArray } from "../scheduler/results.js";
import type { EagerResult, Scope } from "../scheduler/inthread.js";
import { computeEager } from "./eager.js";
import { ArrayBase } from "./base.js";
import { reduceNode, scalarOperand, type ReduceOptions } from "./build.js";
import type { Reducer } from "./nan-reductions.js";
import { checkDType, dtypeOfTypedArray, typedArrayFor, type DType, type TypedArray } from "../dtype.js";
import { sizeOf, stridesOf } from "./shape.js";
import type { Chunks } from "../grid.js";
import type { Selector } from "./selectors.js";
import type { Derived } from "./views.js";
import { matmulOf, type Chunked } from "./matmul.js";
import { dotOf } from "./contract.js";

const wholeChunks = (shape: readonly number[]) => shape.map((n) => [n]);

/** Where an NDArray's data lives when it is a view into a kernel memory (inside mapBlocks functions). */
export interface Home {
  home: object;
  addr: number;
  scope: Scope;
}

export class NDArray extends ArrayBase<NDArray, NDArray, number | boolean | NDArray> {
  readonly #data: TypedArray;
  private readonly _shape: number[];
  private readonly _dtype: DType;
  private _node: DataNode | null = null;
  readonly #home: Home | undefined;

  /** @internal use fromArray() to make one from user data */
  constructor(data: TypedArray, shape: readonly number[], dtype: DType, home?: Home) {
    super();
    this.#home = home;
    if (data.length !== sizeOf(shape)) {
      throw invalid("SHAPE_MISMATCH", `data of length ${data.length} does not fit shape [${shape.join(", ")}]`);
    }
    if (dtypeOfTypedArray(data) !== dtype) throw invalid("DTYPE_MISMATCH", `data is not a typed array of dtype ${dtype}`);
    this.#data = data;
    this._shape = [...shape];
    this._dtype = dtype;
  }

  /** @internal wraps existing data without copying (blocks handed to mapBlocks functions) */
  static fromRaw(data: TypedArray, shape: readonly number[], dtype: string, home?: Home): NDArray {
    return new NDArray(data, shape, checkDType(dtype), home);
  }

  /** the values, C order; for bool arrays a Uint8Array of 0 and 1 */
  get data(): TypedArray {
    if (this.#home && !this.#home.scope.alive) {
      throw new TesseraError(
        "RELEASED",
        `this NDArray [${this._shape.join(", ")}] was made inside a mapBlocks function and its block is done; copy() it inside the function to keep it`,
      );
    }
    return this.#data;
  }

  /** @internal byte address of the data when it lives (alive) in kernel memory `memory` */
  addressIn(memory: object): number | undefined {
    const h = this.#home;
    return h && h.home === memory && h.scope.alive ? h.addr : undefined;
  }

  /** A copy of this array in ordinary JS memory. */
  copy(): NDArray {
    return new NDArray(this.data.slice() as TypedArray, this._shape, this._dtype);
  }

  static isNDArray(v: unknown): v is NDArray {
    return v instanceof NDArray;
  }

  /** @internal */
  get node(): DataNode {
    const data = this.data; // checks the scope
    return (this._node ??= { kind: "data", id: newId(), shape: this._shape, dtype: this._dtype, data, home: this.#home?.home, addr: this.#home?.addr });
  }

  override get shape(): number[] {
    return [...this._shape];
  }
  override get dtype(): DType {
    return this._dtype;
  }

  protected operand(o: NDArray | number, what: string): Node | number {
    if (o instanceof NDArray) return o.node;
    if (typeof o === "object" && o !== null && "chunks" in o) {
      throw invalid("INVALID_ARGUMENT", `${what}: an NDArray cannot take a ChunkedArray operand; wrap it with fromArray() first`);
    }
    return scalarOperand(o, `${what} operand`);
  }

  protected wrap(node: Node): NDArray {
    const [r] = computeEager([{ node, chunks: wholeChunks(node.shape) }]);
    return fromRawResult(r!, node.dtype);
  }

  protected reduce(op: ReduceOp, opts?: ReduceOptions): number | boolean | NDArray {
    const { node } = reduceNode(op, this.node, wholeChunks(this._shape), opts);
    const [r] = computeEager([{ node, chunks: wholeChunks(node.shape) }]);
    return typeof r === "object" ? fromRawResult(r) : r!;
  }

  protected reduced(_axes: number[], _keepdims: boolean, build: (reduce: Reducer) => Node): number | boolean | NDArray {
    const whole = wholeChunks(this._shape);
    const node = build((op, input, opts) => reduceNode(op, input, whole, opts).node);
    const [r] = computeEager([{ node, chunks: wholeChunks(node.shape) }]);
    return typeof r === "object" ? fromRawResult(r) : r!;
  }

  protected derive(build: (chunks: Chunks) => Derived): NDArray {
    const d = build(wholeChunks(this._shape));
    const [r] = computeEager([{ node: d.node, chunks: wholeChunks(d.node.shape) }]);
    return fromRawResult(r!, d.node.dtype);
  }

  /** numpy's matmul (Python's @), computed at once: see ChunkedArray.matmul. */
  matmul(other: NDArray): NDArray {
    return this.product(other, "matmul", matmulOf);
  }

  /** numpy's ndarray.dot, computed at once: see dot(). */
  dot(other: NDArray): NDArray {
    return this.product(other, "dot", dotOf);
  }

  private product(other: NDArray, what: string, of: (a: Chunked, b: Chunked) => Chunked): NDArray {
    if (!(other instanceof NDArray)) {
      this.operand(other as never, what); // a ChunkedArray: the usual message
      throw invalid("INVALID_ARGUMENT", `${what} takes an array operand, got ${show(other)}; use mul for scalars`);
    }
    const r = of({ node: this.node, chunks: wholeChunks(this._shape) }, { node: other.node, chunks: wholeChunks(other.shape) });
    const [v] = computeEager([{ node: r.node, chunks: wholeChunks(r.node.shape) }]);
    return fromRawResult(v!, r.node.dtype);
  }

  /**
   * With one integer per axis: that element, a number (a boolean for bool arrays). Otherwise numpy
   * indexing as ChunkedArray.get, computed at once: slices, null, newaxis, "..." and one integer array.
   */
  get(...selectors: Selector[]): number | boolean | NDArray {
    if (selectors.length === this._shape.length && selectors.every((s) => typeof s === "number")) return this.element(selectors as number[]);
    return this.indexed(selectors);
  }

  private element(index: number[]): number | boolean {
    const st = stridesOf(this._shape);
    let off = 0;
    index.forEach((i, d) => {
      const n = this._shape[d]!;
      const j = i < 0 ? i + n : i;
      if (!Number.isInteger(i) || j < 0 || j >= n) throw invalid("INDEX_ERROR", `index ${show(i)} is out of bounds for axis ${d} with size ${n}`);
      off += j * st[d]!;
    });
    const v = this.data[off]!;
    return this._dtype === "bool" ? v !== 0 : v;
  }

  /** Nested JS arrays (booleans for bool arrays), as numpy's tolist(). */
  toArray(): unknown {
    const conv = this._dtype === "bool" ? (v: number) => v !== 0 : (v: number) => v;
    const data = this.data;
    const build = (d: number, off: number): unknown => {
      if (d === this._shape.length) return conv(data[off]!);
      const st = stridesOf(this._shape)[d]!;
      return Array.from({ length: this._shape[d]! }, (_, i) => build(d + 1, off + i * st));
    };
    return build(0, 0);
  }

  override toString(): string {
    return `NDArray<${this._dtype}>[${this._shape.join(", ")}]`;
  }
}

/**
 * An eagerly computed array as an NDArray. Results a compute() would give as a number (an element picked
 * by integers, arithmetic on full reductions) are 0-d arrays of `dtype` here: NDArray operations return
 * arrays, apart from reductions and get() with an integer per axis.
 */
export function fromRawResult(r: EagerResult | RawArray, dtype?: DType): NDArray {
  if (typeof r !== "object") {
    if (dtype === undefined) throw new Error("internal: expected an array result");
    const data = typedArrayFor(dtype, 1);
    data[0] = typeof r === "boolean" ? (r ? 1 : 0) : r;
    return new NDArray(data, [], dtype);
  }
  const e = r as Exclude<EagerResult, number | boolean>;
  return new NDArray(r.data, r.shape, r.dtype, e.home && e.scope ? { home: e.home, addr: e.addr!, scope: e.scope } : undefined);
}
