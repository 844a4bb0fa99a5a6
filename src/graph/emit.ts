/**
 * Fusion, numexpr-style: compiles an expression of virtual nodes (sources, elementwise operations and
 * views) into one tile program, with registers reused as soon as a value's last use is past and shared
 * sub-expressions computed once. Materialized nodes are leaves, read through slots.
 *
 * Every value is evaluated under an index map from the program's grid to the node's own index space:
 * broadcasting and views only change the map, so a slice or transpose of a source stays in the program
 * (a random source's flat index is an affine function of the grid index; a buffer is read with strides).
 */
import { DT, OP } from "../kernels/abi.js";
import { ProgramBuilder, type ProgramTemplate } from "../kernels/program.js";
import { dtypeCode, type DType } from "../dtype.js";
import { cStrides } from "../grid.js";
import { broadcastMap, composeMaps, identityMap, linearThrough, mapKey, type IndexMap } from "../index-map.js";
import type { SlotAccess } from "../plan/types.js";
import { partOf } from "./concat-split.js";
import type { BinaryOp, MapNode, Node, UnaryOp } from "./nodes.js";

/** The buffer holding a materialized node's values (null: the node is virtual). */
export type LeafBuffer = (n: Node) => { buffer: number; dtype: DType } | null;

/** Operand: a register, or a constant index (weak scalar) */
type Operand = { reg: number } | { k: number };

const useKey = (n: Node, m: IndexMap) => `${n.id}@${mapKey(m)}`;

/**
 * A view's values are its input's under the composed map, and a concatenation's are those of the input
 * the program's region lies in (shifted): neither needs registers of its own.
 */
function resolve(n: Node, m: IndexMap, regionStart: readonly number[]): { node: Node; map: IndexMap } {
  for (;;) {
    if (n.kind === "view") {
      m = composeMaps(n.map, m);
      n = n.input;
    } else if (n.kind === "concat") {
      ({ part: n, map: m } = partOf(n, m, regionStart));
    } else return { node: n, map: m };
  }
}

export class ProgramEmitter {
  readonly b = new ProgramBuilder();
  readonly slots: SlotAccess[] = [];
  private regOf = new Map<string, number>();
  private uses = new Map<string, number>();
  private free: number[] = [];
  private slotKey = new Map<string, number>();

  /**
   * `nd`: dimensions of the grid the program runs on; `substitute`: a buffer to read a virtual node from
   * under a given map instead of computing it (a random source generated elsewhere, read with strides)
   */
  constructor(
    private readonly nd: number,
    private readonly leaf: LeafBuffer,
    private readonly substitute: (n: Node, m: IndexMap) => { buffer: number; dtype: DType; map: IndexMap } | null = () => null,
    /** the grid position where the program's box of blocks starts (which input of a concatenation it reads) */
    private readonly regionStart: readonly number[] = new Array<number>(nd).fill(0),
  ) {}

  private resolve(n: Node, m: IndexMap): { node: Node; map: IndexMap } {
    return resolve(n, m, this.regionStart);
  }

  /** The maps of a node's operands: broadcasting into it, or the view's own map. */
  private argMaps(n: Node, m: IndexMap): { node: Node; map: IndexMap }[] {
    if (n.kind !== "map") return [];
    return n.args.filter((a): a is Node => typeof a !== "number").map((a) => this.resolve(a, composeMaps(broadcastMap(a.shape, n.shape), m)));
  }

  /** Declares the roots this program will evaluate (on the grid itself), so registers can be released after last use. */
  countUses(roots: Node[]): void {
    const seen = new Set<string>();
    const visit = (n0: Node, m0: IndexMap) => {
      const { node: n, map: m } = this.resolve(n0, m0);
      const key = useKey(n, m);
      this.uses.set(key, (this.uses.get(key) ?? 0) + 1);
      if (seen.has(key)) return;
      seen.add(key);
      if (!this.leaf(n)) for (const a of this.argMaps(n, m)) visit(a.node, a.map);
    };
    for (const r of roots) visit(r, identityMap(this.nd));
  }

  slot(spec: SlotAccess, dtype: DType = "float64"): number {
    const key = JSON.stringify(spec);
    let s = this.slotKey.get(key);
    if (s === undefined) {
      s = spec.kind === "index" ? this.b.indexSlot() : this.b.memSlot(dtypeCode(dtype));
      this.slots.push(spec);
      this.slotKey.set(key, s);
    }
    return s;
  }

  /** Fresh consecutive MEM slots (reduction accumulators, f64; scan carries, f64 or f32), not shared with anything. */
  partialSlots(buffer: number, ncomp: number, dtype: DType = "float64"): number {
    const first = this.slots.length;
    for (let c = 0; c < ncomp; c++) {
      this.b.memSlot(dtype === "float32" ? DT.F32 : DT.F64);
      this.slots.push({ kind: "partial", buffer, component: c });
    }
    return first;
  }

  /** An INDEX slot giving the flat C-order index into an array of `shape` seen through map m. */
  flatIndexSlot(shape: readonly number[], m: IndexMap, contiguous: boolean): number {
    const { base, strides } = linearThrough(m, cStrides(shape), this.nd);
    return this.slot({ kind: "index", offset: base, strides, contiguous });
  }

  private alloc(): number {
    return this.free.pop() ?? this.b.reg();
  }

  /** dst = src exactly (x * 1 keeps -0, NaN and infinities; x + 0 would turn -0 into +0). */
  private copy(dst: number, src: number): void {
    this.b.emit(OP.MUL, dst, src, this.b.constant(1), 2);
  }

  /** Releases one use of node n (under map m, default the grid's identity); its register returns to the pool after the last. */
  release(n0: Node, m0: IndexMap = identityMap(this.nd)): void {
    const { node: n, map: m } = this.resolve(n0, m0);
    const key = useKey(n, m);
    const left = (this.uses.get(key) ?? 1) - 1;
    this.uses.set(key, left);
    if (left === 0) {
      const r = this.regOf.get(key);
      if (r !== undefined) {
        this.free.push(r);
        this.regOf.delete(key);
      }
    }
  }

  /** Register holding node n's values under map m (computed on first request). */
  value(n0: Node, m0: IndexMap = identityMap(this.nd)): number {
    const { node: n, map: m } = this.resolve(n0, m0);
    const key = useKey(n, m);
    const have = this.regOf.get(key);
    if (have !== undefined) return have;
    const r = this.compute(n, m);
    this.regOf.set(key, r);
    return r;
  }

  private compute(n: Node, m: IndexMap): number {
    const sub = this.substitute(n, m);
    if (sub) {
      const r = this.alloc();
      this.b.emit(OP.LOAD, r, this.slot({ kind: "read", buffer: sub.buffer, map: sub.map }, sub.dtype));
      return r;
    }
    const leaf = this.leaf(n);
    if (leaf) {
      const r = this.alloc();
      this.b.emit(OP.LOAD, r, this.slot({ kind: "read", buffer: leaf.buffer, map: m }, leaf.dtype));
      return r;
    }
    switch (n.kind) {
      case "random": {
        const r = this.alloc();
        this.b.emit(OP.RANDOM, r, this.flatIndexSlot(n.shape, m, true), n.dist === "normal" ? 1 : 0, this.b.seed(n.seed));
        return r;
      }
      case "iota": {
        const r = this.alloc();
        this.b.emit(OP.IOTA, r, this.flatIndexSlot(n.shape, m, false));
        return r;
      }
      case "fill": {
        const r = this.alloc();
        this.b.emit(OP.CONST, r, this.b.constant(castConst(n.value, n.dtype)));
        return r;
      }
      case "map":
        return this.map(n, m);
      default:
        throw new Error(`internal: ${n.kind} node ${n.id} reached the emitter without a buffer`);
    }
  }

  private map(n: MapNode, m: IndexMap): number {
    const args = n.args;
    const compute = computeDType(n);
    const nodeArgs = this.argMaps(n, m);
    let next = 0;
    const ops: Operand[] = args.map((a) => {
      if (typeof a === "number") return { k: this.b.constant(castConst(a, compute)) };
      const am = nodeArgs[next++]!;
      return { reg: this.value(am.node, am.map) };
    });
    const releaseArgs = () => nodeArgs.forEach((a) => this.release(a.node, a.map));
    if (n.op === "pow" && compute === "int32") {
      // temporaries are taken while the operands still hold their registers
      const acc = this.intPow(ops[0]!, ops[1]!);
      releaseArgs();
      const r = this.alloc();
      this.copy(r, acc);
      this.free.push(acc);
      return r;
    }
    releaseArgs();
    const r = this.alloc();
    const wordOf = (o: Operand) => ("reg" in o ? o.reg : o.k);
    const mode = (...os: Operand[]) => os.reduce((m, o, i) => m | ("k" in o ? 1 << i : 0), 0);
    if (n.op === "where") {
      const [c, a, b] = ops as [Operand, Operand, Operand];
      if ("k" in c) {
        // a constant condition picks one side for every element
        const side = this.b.constValue(c.k) !== 0 ? a : b;
        if ("k" in side) this.b.emit(OP.CONST, r, side.k);
        else this.copy(r, side.reg);
      } else this.b.emit(OP.SELECT, r, c.reg, wordOf(a), wordOf(b), mode(a, b));
      return r;
    }
    if (ops.length === 1) {
      this.unary(n.op as UnaryOp, r, (ops[0] as { reg: number }).reg, compute, n.dtype);
      return r;
    }
    const [a, b] = ops as [Operand, Operand];
    const op = n.op as BinaryOp;
    const words = [wordOf(a), wordOf(b), mode(a, b)];
    if (op === "mul" && compute === "int32") this.b.emit(OP.IMUL, r, ...words);
    else if (op === "mod" && compute === "int32") this.b.emit(OP.IMOD, r, ...words);
    else if (op === "floorDivide" && compute === "int32") this.b.emit(OP.IFLOORDIV, r, ...words);
    else this.b.emit(BINARY[op], r, ...words);
    if (n.dtype === "float32") this.b.emit(OP.ROUND_F32, r, r);
    else if (n.dtype === "int32" && (op === "add" || op === "sub" || op === "pow")) this.b.emit(OP.WRAP_I32, r, r);
    else if (n.dtype === "bool" && op === "add") this.b.emit(OP.BOOL, r, r);
    return r;
  }

  /**
   * int32 power, wrapping at every product as numpy's integer power: square-and-multiply, unrolled
   * over the exponent's bits (known when it is a constant, else all 31 of them).
   */
  private intPow(a: Operand, b: Operand): number {
    const base = this.alloc();
    if ("reg" in a) this.copy(base, a.reg);
    else this.b.emit(OP.CONST, base, a.k);
    const one = this.b.constant(1);
    const acc = this.alloc();
    this.b.emit(OP.CONST, acc, one);
    if ("k" in b) {
      for (let e = this.b.constValue(b.k); e > 0; e = Math.floor(e / 2)) {
        if (e % 2 === 1) this.b.emit(OP.IMUL, acc, acc, base, 0);
        if (e > 1) this.b.emit(OP.IMUL, base, base, base, 0);
      }
    } else {
      const q = this.alloc();
      const h = this.alloc();
      const m = this.alloc();
      const half = this.b.constant(0.5);
      const two = this.b.constant(2);
      this.b.emit(OP.MAX, q, b.reg, this.b.constant(0), 2); // negative exponents: fixed up after the loop
      for (let bit = 0; bit < 31; bit++) {
        this.b.emit(OP.MUL, h, q, half, 2);
        this.b.emit(OP.FLOOR, h, h);
        this.b.emit(OP.MUL, m, h, two, 2);
        this.b.emit(OP.SUB, m, q, m, 0); // the bit
        this.copy(q, h);
        this.b.emit(OP.IMUL, h, acc, base, 0);
        this.b.emit(OP.SELECT, acc, m, h, acc, 0);
        this.b.emit(OP.IMUL, base, base, base, 0);
      }
      this.negativePowers(a, b.reg, acc, [q, h, m]);
      this.free.push(q, h, m);
    }
    this.free.push(base);
    return acc;
  }

  /**
   * Where the int32 exponent e is negative (numpy raises; a kernel cannot): the real power a^e truncated
   * toward zero and saturated as astype does: 1 for a = 1, (-1)^e for a = -1, 2^31 - 1 for a = 0
   * (a^e is infinite), else 0. `tmp` are three free registers.
   */
  private negativePowers(a: Operand, e: number, acc: number, tmp: number[]): void {
    const [av, par, c] = tmp as [number, number, number];
    const k = (v: number) => this.b.constant(v);
    if ("reg" in a) this.copy(av, a.reg);
    else this.b.emit(OP.CONST, av, a.k);
    const sp = this.alloc(); // the value for a negative exponent
    this.b.emit(OP.CONST, sp, k(0));
    this.b.emit(OP.EQ, c, av, k(0), 2);
    this.b.emit(OP.SELECT, sp, c, k(2 ** 31 - 1), sp, 1);
    // (-1)^e = 1 - 2 (e mod 2), e mod 2 = e - 2 floor(e / 2) in {0, 1}
    this.b.emit(OP.MUL, par, e, k(0.5), 2);
    this.b.emit(OP.FLOOR, par, par);
    this.b.emit(OP.MUL, par, par, k(2), 2);
    this.b.emit(OP.SUB, par, e, par, 0);
    this.b.emit(OP.MUL, par, par, k(-2), 2);
    this.b.emit(OP.ADD, par, par, k(1), 2);
    this.b.emit(OP.EQ, c, av, k(-1), 2);
    this.b.emit(OP.SELECT, sp, c, par, sp, 0);
    this.b.emit(OP.EQ, c, av, k(1), 2);
    this.b.emit(OP.SELECT, sp, c, k(1), sp, 1);
    this.b.emit(OP.LT, c, e, k(0), 2);
    this.b.emit(OP.SELECT, acc, c, sp, acc, 0);
    this.free.push(sp);
  }

  private unary(op: UnaryOp, r: number, a: number, from: DType, to: DType): void {
    switch (op) {
      case "astype":
        if (to === "float32" && from !== "bool") this.b.emit(OP.ROUND_F32, r, a);
        else if (to === "int32" && (from === "float64" || from === "float32")) this.b.emit(OP.TRUNC_I32, r, a);
        else if (to === "bool") this.b.emit(OP.BOOL, r, a);
        else if (r !== a) this.copy(r, a);
        return;
      case "not":
        this.b.emit(OP.NOT, r, a);
        return;
      case "isnan":
        this.b.emit(OP.ISNAN, r, a);
        return;
      default:
        this.b.emit(UNARY[op], r, a);
        if (to === "float32" && ROUNDS.has(op)) this.b.emit(OP.ROUND_F32, r, r);
        if (to === "int32" && (op === "neg" || op === "abs")) this.b.emit(OP.WRAP_I32, r, r);
    }
  }

  build(): { template: ProgramTemplate; slots: SlotAccess[] } {
    return { template: this.b.build(), slots: [...this.slots] };
  }
}

const BINARY: Record<BinaryOp, number> = {
  add: OP.ADD, sub: OP.SUB, mul: OP.MUL, div: OP.DIV, pow: OP.POW, maximum: OP.MAX, minimum: OP.MIN,
  eq: OP.EQ, ne: OP.NE, lt: OP.LT, le: OP.LE, gt: OP.GT, ge: OP.GE,
  arctan2: OP.ATAN2, hypot: OP.HYPOT, mod: OP.MOD, floorDivide: OP.FLOORDIV, fmax: OP.FMAX, fmin: OP.FMIN,
};
const UNARY: Record<Exclude<UnaryOp, "astype" | "not" | "isnan">, number> = {
  neg: OP.NEG, abs: OP.ABS, sqrt: OP.SQRT, exp: OP.EXP, log: OP.LOG, sin: OP.SIN, cos: OP.COS,
  tanh: OP.TANH, floor: OP.FLOOR, ceil: OP.CEIL,
  tan: OP.TAN, arcsin: OP.ASIN, arccos: OP.ACOS, arctan: OP.ATAN, sinh: OP.SINH, cosh: OP.COSH, arcsinh: OP.ASINH,
  arccosh: OP.ACOSH, arctanh: OP.ATANH, log1p: OP.LOG1P, expm1: OP.EXPM1, log2: OP.LOG2, log10: OP.LOG10, exp2: OP.EXP2,
  sign: OP.SIGN, isinf: OP.ISINF, isfinite: OP.ISFINITE, rint: OP.RINT,
};
/** float32 results of these need rounding from the f64 the kernel computes in */
const ROUNDS = new Set<UnaryOp>([
  "sqrt", "exp", "log", "sin", "cos", "tanh", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh",
  "arctanh", "log1p", "expm1", "log2", "log10", "exp2",
]);

/** dtype the operation computes in: the promoted operand dtype (comparisons and where included). */
export function computeDType(n: MapNode): DType {
  const cmp = ["eq", "ne", "lt", "le", "gt", "ge"];
  if (!cmp.includes(n.op)) return n.op === "where" ? n.dtype : n.dtype;
  const arrays = n.args.filter((a): a is Node => typeof a !== "number").map((a) => a.dtype);
  return arrays.includes("float64") || arrays.length === 0 ? "float64" : arrays.includes("float32") ? "float32" : "float64";
}

/** A weak scalar converted to the dtype it is computed in (numpy 2 / NEP 50). */
export function castConst(v: number, d: DType): number {
  if (d === "float32") return Math.fround(v);
  if (d === "int32") return v | 0;
  if (d === "bool") return v !== 0 ? 1 : 0;
  return v;
}
