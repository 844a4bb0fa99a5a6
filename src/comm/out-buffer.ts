/**
 * The `out` option of allreduce, reduce, bcast and gather: a typed array that receives the result, as
 * MPI's receive buffer (or numpy's out=). A program that reduces arrays of one size again and again passes the same one
 * each time, so a large reduction writes into memory that is mapped already: a new result array of 64 MiB
 * is 16,384 fresh pages, and faulting them in cost more than the reduction itself (2 local ranks over
 * shared memory, Zen 2: 1.0 GB/s into a new array, 2.5 GB/s into a reused one).
 */
import { DType } from "../protocol/messages.js";
import { commError } from "./errors.js";
import { typedDtype, typedOf, type Payload, type Typed } from "./payload.js";

export interface ReduceOptions<T> {
  /** receives the result (which is then this array): a typed array of the value's type and length, not overlapping it */
  out?: T;
}

export interface BcastOptions<T> {
  /** receives the root's value on every rank (returned): a typed array of its type and length (on the root, its value itself may be passed) */
  out?: T;
}

export interface AllgatherOptions<T> {
  /** receives every rank's value on every rank, rank q's at q × n (n: the length of each, which must be equal): as gather's out, on every rank; this rank's value may be its own part of it */
  out?: T;
}

export interface GatherOptions<T> {
  /**
   * on the root, receives every rank's value, rank q's at q × n (n: the length of each, which must be
   * equal): a typed array of their type and length P × n, as MPI_Gather's receive buffer; the result is
   * then P views into it. Ignored on the other ranks, as MPI's recvbuf.
   */
  out?: T;
}

const describe = (v: unknown): string => (ArrayBuffer.isView(v) ? `${v.constructor.name} of ${(v as Typed).length}` : v === null ? "null" : typeof v);

/** Whether two views share a byte (empty views share none). */
const sharesBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;

function optionsOut(options: { out?: unknown } | undefined, what: string): unknown {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== "object") throw commError("INVALID_ARGUMENT", `${what}'s options ${String(options)} are not an object`);
  return options.out;
}

function typedOut(out: unknown, what: string): Typed {
  if (typedDtype(out) === DType.None) throw commError("INVALID_ARGUMENT", `${what}'s out (${describe(out)}) is not a Float64Array, Float32Array, Int32Array or Uint8Array`);
  return out as Typed;
}

/** The `out` of `options` checked against `value` (INVALID_ARGUMENT naming both when it cannot take the result); undefined when none. */
export function checkOut(value: unknown, options: ReduceOptions<unknown> | undefined, what: string): Typed | undefined {
  const out = optionsOut(options, what);
  if (out === undefined) return undefined;
  const o = typedOut(out, what);
  if (typedDtype(value) !== typedDtype(o) || (value as Typed).length !== o.length) throw commError("INVALID_ARGUMENT", `${what}'s out (${describe(out)}) is not of the value's type and length (${describe(value)})`);
  const v = value as Typed;
  // the value is read (by this rank and its peers) while the result is written: they must not share bytes
  if (sharesBytes(o, v)) {
    throw commError("INVALID_ARGUMENT", `${what}'s out overlaps its value (bytes ${o.byteOffset}..${o.byteOffset + o.byteLength} and ${v.byteOffset}..${v.byteOffset + v.byteLength} of one buffer): pass another array`);
  }
  return o;
}

/** The result in `out` when there is one (copied there unless it was computed in place). */
export function intoOut<T>(result: T, out: Typed | undefined): T {
  if (!out || (result as unknown) === out) return result;
  out.set(result as unknown as Typed);
  return out as unknown as T;
}

/** bcast's `out`: a typed array (checked against the root's value on the root; on the others when it comes, by receivedInto). */
export function checkBcastOut(value: unknown, options: BcastOptions<unknown> | undefined, isRoot: boolean): Typed | undefined {
  const out = optionsOut(options, "bcast");
  if (out === undefined) return undefined;
  if (isRoot) return out === value ? typedOut(out, "bcast") : checkOut(value, options, "bcast");
  return typedOut(out, "bcast");
}

/**
 * gather's `out` on the root (rank `root` of `size`), for values like `value` (undefined on the other
 * ranks, which ignore it). The root's value may be its own part of out (MPI_IN_PLACE's use), not any other
 * bytes of it: the paths write the parts in different orders, so another overlap would give different results.
 */
export function checkGatherOut(value: unknown, options: GatherOptions<unknown> | undefined, root: number, rank: number, size: number, what = "gather"): Typed | undefined {
  const out = optionsOut(options, what);
  if (out === undefined || rank !== root) return undefined;
  const o = typedOut(out, what);
  if (typedDtype(value) !== typedDtype(o) || (value as Typed).length * size !== o.length) {
    throw commError("INVALID_ARGUMENT", `${what}'s out (${describe(out)}) is not of the value's type and ${size} times its length (${describe(value)}, ${size} ranks)`);
  }
  const v = value as Typed;
  const own = gatherPart(o, root, v.length);
  if (sharesBytes(o, v) && !(v.byteOffset === own.byteOffset && v.byteLength === own.byteLength)) {
    const whose = what === "gather" ? "the root's" : "this rank's";
    throw commError("INVALID_ARGUMENT", `${what}'s out overlaps ${whose} value other than as its own part (value bytes ${v.byteOffset}..${v.byteOffset + v.byteLength}, ${whose} part ${own.byteOffset}..${own.byteOffset + own.byteLength}): pass another array`);
  }
  return o;
}

/** Rank q's part of gather's `out` (n elements each). */
export const gatherPart = (out: Typed, q: number, n: number): Typed => out.subarray(q * n, (q + 1) * n);

/** How an error names rank q's part of gather's `out` (n elements each). */
const partLabel = (out: Typed, q: number, n: number) => `elements ${q * n}..${(q + 1) * n} of out (${describe(out)})`;

/** Rank q's received value in its part of gather's `out`: receivedInto's checks, the message naming the part and the whole. */
export function gatheredInto(p: Payload, out: Typed, q: number, n: number, what = "gather"): Typed {
  return receivedInto(p, gatherPart(out, q, n), `${what}'s value of rank ${q}`, partLabel(out, q, n));
}

/** Rank q's value (a path's result) in its part of gather's `out`, as valueInto. */
export function gatheredValueInto(v: unknown, out: Typed, q: number, n: number, what = "gather"): Typed {
  return valueInto(v, gatherPart(out, q, n), `${what}'s value of rank ${q}`, partLabel(out, q, n));
}

/**
 * A received value in `out` (copied unless it was received into it): INVALID_ARGUMENT naming both when it is
 * not a typed array of out's type and length (a rank that sent another value than this rank expects).
 */
export function receivedInto(p: Payload, out: Typed, what: string, outLabel = `out (${describe(out)})`): Typed {
  const b = p.bytes;
  const ok = p.dtype === typedDtype(out) && b.byteLength === out.byteLength;
  if (!ok) {
    const got = p.dtype === DType.Number ? "a number" : p.dtype === DType.Value || p.dtype === DType.None ? "a value that is not a typed array" : `${DType[p.dtype]} of ${b.byteLength} bytes`;
    throw commError("INVALID_ARGUMENT", `${what}: ${outLabel} cannot take ${got}`);
  }
  if (b.buffer === out.buffer && b.byteOffset === out.byteOffset) return out; // received in place
  out.set(typedOf(p.dtype, b));
  return out;
}

/** A value (a path's result) in `out`: INVALID_ARGUMENT as receivedInto when it is not a typed array of out's type and length. */
export function valueInto(v: unknown, out: Typed, what: string, outLabel = `out (${describe(out)})`): Typed {
  if (v === out) return out;
  if (typedDtype(v) !== typedDtype(out) || (v as Typed).length !== out.length) throw commError("INVALID_ARGUMENT", `${what}: ${outLabel} cannot take ${describe(v)}`);
  out.set(v as Typed);
  return out;
}

/**
 * Runs a collective with the `out` that `check` returns; when `check` refuses it, the collective runs
 * without one and its promise then rejects with the refusal. The rank whose out is wrong still takes its
 * part: the other ranks neither wait for it until the collective timeout nor take its next call for this
 * one (a COLLECTIVE_MISMATCH failing the whole world); the error is this rank's alone.
 */
export function withCheckedOut<R>(check: () => Typed | undefined, run: (out: Typed | undefined) => Promise<R>): Promise<R> {
  let out: Typed | undefined;
  let refused: unknown = null;
  try {
    out = check();
  } catch (e) {
    refused = e;
  }
  let p: Promise<R>;
  try {
    p = run(out);
  } catch (e) {
    return Promise.reject(e);
  }
  return refused === null ? p : p.then(() => Promise.reject(refused));
}
