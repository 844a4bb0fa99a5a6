/**
 * Values on the wire. Float64Array, Float32Array, Int32Array and Uint8Array travel as their raw
 * little-endian bytes (a view, no per-element conversion); a JS number as 8 bytes; anything else in V8's
 * structured-clone format. Also the reduction operators, applied elementwise with a fixed operand order.
 */
import { deserialize, serialize } from "node:v8";
import { DType, ReduceOp, type PartInfo } from "../protocol/messages.js";
import { commError } from "./errors.js";
import type { ReduceFn } from "./world.js";

export type Typed = Float64Array | Float32Array | Int32Array | Uint8Array;
export type BuiltinOp = "sum" | "min" | "max" | "prod";

export interface Payload {
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
  parts?: PartInfo[];
}

export const EMPTY_PAYLOAD: Payload = { dtype: DType.None, shape: [], bytes: new Uint8Array(0) };

/** Below this many bytes a new array's zero filling costs nothing worth avoiding. */
const UNINIT_MIN = 64 * 1024;

/**
 * A new Uint8Array (a plain one, not a Buffer: its own ArrayBuffer at offset 0) whose bytes are NOT zeroed,
 * for a buffer the caller overwrites whole at once (a received message): zeroing a large allocation is a
 * pass over memory for nothing (and a page fault per page where the allocator hands out fresh memory).
 */
export function uninitBytes(n: number): Uint8Array {
  if (n < UNINIT_MIN) return new Uint8Array(n);
  return new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n);
}

/** A new typed array like `like` of `n` elements, not zeroed (see uninitBytes). */
export function uninitLike<T extends Typed>(like: T, n: number): T {
  const C = like.constructor as new (buf: ArrayBuffer, off: number, n: number) => T;
  return new C(uninitBytes(n * like.BYTES_PER_ELEMENT).buffer as ArrayBuffer, 0, n);
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function typedDtype(v: unknown): DType {
  if (v instanceof Float64Array) return DType.Float64;
  if (v instanceof Float32Array) return DType.Float32;
  if (v instanceof Int32Array) return DType.Int32;
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return DType.Uint8;
  return DType.None;
}

export function toPayload(v: unknown): Payload {
  if (typeof v === "number") {
    // 8 bytes of Node's Buffer pool (8-byte aligned): no ArrayBuffer of its own to allocate and free
    const bytes = Buffer.allocUnsafe(8);
    bytes.writeDoubleLE(v, 0);
    return { dtype: DType.Number, shape: [], bytes };
  }
  const d = typedDtype(v);
  if (d !== DType.None) {
    const a = v as Typed;
    return { dtype: d, shape: [a.length], bytes: bytesOf(a) };
  }
  return { dtype: DType.Value, shape: [], bytes: bytesOf(serialize(v)) };
}

const CTORS = {
  [DType.Float64]: Float64Array,
  [DType.Float32]: Float32Array,
  [DType.Int32]: Int32Array,
  [DType.Uint8]: Uint8Array,
} as const;

/** A typed array over the bytes: a view when aligned, else a copy. */
export function typedOf(dtype: DType, bytes: Uint8Array): Typed {
  const C = CTORS[dtype as keyof typeof CTORS];
  if (!C) throw commError("COLLECTIVE_MISMATCH", `dtype ${DType[dtype]} is not a typed array`);
  const k = C.BYTES_PER_ELEMENT;
  if (bytes.byteLength % k !== 0) throw commError("COLLECTIVE_MISMATCH", `${bytes.byteLength} bytes are not whole ${C.name} elements`);
  if (bytes.byteOffset % k === 0) return new C(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / k);
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new C(copy.buffer, 0, bytes.byteLength / k);
}

export function fromPayload(p: Payload): unknown {
  switch (p.dtype) {
    case DType.None:
      return undefined;
    case DType.Number:
      return new DataView(p.bytes.buffer, p.bytes.byteOffset, 8).getFloat64(0, true);
    case DType.Value:
      return deserialize(p.bytes);
    default:
      return typedOf(p.dtype, p.bytes);
  }
}

export function reduceOpCode(op: ReduceFn<unknown>): ReduceOp {
  switch (op) {
    case "sum":
      return ReduceOp.Sum;
    case "min":
      return ReduceOp.Min;
    case "max":
      return ReduceOp.Max;
    case "prod":
      return ReduceOp.Prod;
    default:
      if (typeof op === "function") return ReduceOp.Custom;
      throw commError("INVALID_ARGUMENT", `reduction op ${JSON.stringify(op)} is not "sum", "min", "max", "prod" or a function`);
  }
}

function scalar(a: number, b: number, op: BuiltinOp): number {
  switch (op) {
    case "sum":
      return a + b;
    case "prod":
      return a * b;
    case "min":
      return Math.min(a, b);
    case "max":
      return Math.max(a, b);
  }
}

type Kernel<A> = (o: A, l: A, r: A, n: number) => void;

// One monomorphic loop per (type, op): a shared generic loop runs several times slower once V8 has seen
// several array types in it.
const F64: Record<BuiltinOp, Kernel<Float64Array>> = {
  sum: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! + r[i]!; },
  prod: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! * r[i]!; },
  min: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(l[i]!, r[i]!); },
  max: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(l[i]!, r[i]!); },
};
const F32: Record<BuiltinOp, Kernel<Float32Array>> = {
  sum: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! + r[i]!; },
  prod: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! * r[i]!; },
  min: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(l[i]!, r[i]!); },
  max: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(l[i]!, r[i]!); },
};
const I32: Record<BuiltinOp, Kernel<Int32Array>> = {
  sum: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = (l[i]! + r[i]!) | 0; },
  prod: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.imul(l[i]!, r[i]!); },
  min: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(l[i]!, r[i]!); },
  max: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(l[i]!, r[i]!); },
};
const U8: Record<BuiltinOp, Kernel<Uint8Array>> = {
  sum: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! + r[i]!; },
  prod: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = l[i]! * r[i]!; },
  min: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.min(l[i]!, r[i]!); },
  max: (o, l, r, n) => { for (let i = 0; i < n; i++) o[i] = Math.max(l[i]!, r[i]!); },
};

/** A native loop for combineInto: out = left op (0 sum, 1 prod) right over `dtype`; false when it does not do that case. */
export type NativeCombine = (out: Typed, left: Typed, right: Typed, dtype: DType, op: number) => boolean;
let native: NativeCombine | null = null;
/** Arrays shorter than this are combined in JS (a native call costs about a microsecond). */
const NATIVE_MIN = 4096;

/**
 * Lets combineInto run sums and products of large arrays in `fn` (the shared-memory addon's, loaded where
 * ranks share memory: a JS loop combines 64 MiB in about twice the time). The bits are the same as the JS
 * loops' (IEEE 754 and two's-complement arithmetic fix them; see native/shm.cc).
 */
export function useNativeCombine(fn: NativeCombine | null): void {
  native = fn;
}

/** out[i] = left[i] op right[i]; `out` may be `left` or `right`. int32 wraps as in numpy; float32 rounds each result. */
export function combineInto(out: Typed, left: Typed, right: Typed, op: BuiltinOp): void {
  const n = out.length;
  if (left.length !== n || right.length !== n || left.constructor !== out.constructor || right.constructor !== out.constructor) {
    throw commError("COLLECTIVE_MISMATCH", `cannot combine a ${left.constructor.name}(${left.length}) and a ${right.constructor.name}(${right.length})`);
  }
  if (native && n >= NATIVE_MIN && (op === "sum" || op === "prod") && native(out, left, right, typedDtype(out), op === "sum" ? 0 : 1)) return;
  if (out instanceof Float64Array) F64[op](out, left as Float64Array, right as Float64Array, n);
  else if (out instanceof Float32Array) F32[op](out, left as Float32Array, right as Float32Array, n);
  else if (out instanceof Int32Array) I32[op](out, left as Int32Array, right as Int32Array, n);
  else U8[op](out, left as Uint8Array, right as Uint8Array, n);
}

/**
 * left op right, a new value (the operands are not modified). Numbers, typed arrays of one type and length
 * (elementwise), arrays (elementwise, recursively), or anything with a function op.
 */
export function combine(left: unknown, right: unknown, op: ReduceFn<unknown>): unknown {
  if (typeof op === "function") return op(left, right);
  if (typeof left === "number" && typeof right === "number") return scalar(left, right, op);
  if (typeof left === "bigint" && typeof right === "bigint") {
    if (op === "sum") return left + right;
    if (op === "prod") return left * right;
    return op === "min" ? (left < right ? left : right) : left > right ? left : right;
  }
  const dl = typedDtype(left);
  if (dl !== DType.None && dl === typedDtype(right)) {
    const l = left as Typed;
    const out = new (l.constructor as new (n: number) => Typed)(l.length);
    combineInto(out, l, right as Typed, op);
    return out;
  }
  if (Array.isArray(left) && Array.isArray(right)) {
    if (left.length !== right.length) {
      throw commError("COLLECTIVE_MISMATCH", `cannot ${op} arrays of lengths ${left.length} and ${right.length} across ranks`);
    }
    return left.map((x, i) => combine(x, right[i], op));
  }
  throw commError(
    "INVALID_ARGUMENT",
    `"${op}" combines numbers, typed arrays and arrays of them; got ${describe(left)} and ${describe(right)} (pass a function op)`,
  );
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "an object";
  return typeof v;
}

/** Packs payloads as parts of one payload (each part 8-byte aligned). */
export function packParts(items: { rank: number; p: Payload }[]): Payload {
  let size = 0;
  const parts: PartInfo[] = [];
  for (const { rank, p } of items) {
    parts.push({ rank, dtype: p.dtype, offset: size, length: p.bytes.length });
    size += Math.ceil(p.bytes.length / 8) * 8; // not & ~7: may pass 2^31
  }
  const bytes = new Uint8Array(size);
  items.forEach(({ p }, i) => bytes.set(p.bytes, parts[i]!.offset));
  return { dtype: DType.Parts, shape: [], bytes, parts };
}

export function unpackParts(p: Payload): { rank: number; p: Payload }[] {
  if (p.dtype !== DType.Parts || !p.parts) throw commError("COLLECTIVE_MISMATCH", `expected parts, got ${DType[p.dtype]}`);
  return p.parts.map((part) => ({
    rank: part.rank,
    p: {
      dtype: part.dtype,
      shape: [],
      bytes: p.bytes.subarray(part.offset, part.offset + part.length),
    },
  }));
}
