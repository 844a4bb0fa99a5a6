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

export interface GatherOptions<T> {
  /**
   * on the root, receives every rank's value, rank q's at q × n (n: the length of each, which must be
   * equal): a typed array of their type and length P × n, as MPI_Gather's receive buffer; the result is
   * then P views into it. Ignored on the other ranks, as MPI's recvbuf.
   */
  out?: T;
}

const describe = (v: unknown): string => (ArrayBuffer.isView(v) ? `${v.constructor.name} of ${(v as Typed).length}` : v === null ? "null" : typeof v);

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
  if (o.buffer === v.buffer && o.byteLength > 0 && o.byteOffset < v.byteOffset + v.byteLength && v.byteOffset < o.byteOffset + o.byteLength) {
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

/** gather's `out` on the root, of `size` ranks' values like `value` (undefined on the other ranks, which ignore it). */
export function checkGatherOut(value: unknown, options: GatherOptions<unknown> | undefined, isRoot: boolean, size: number): Typed | undefined {
  const out = optionsOut(options, "gather");
  if (out === undefined || !isRoot) return undefined;
  const o = typedOut(out, "gather");
  if (typedDtype(value) !== typedDtype(o) || (value as Typed).length * size !== o.length) {
    throw commError("INVALID_ARGUMENT", `gather's out (${describe(out)}) is not of the value's type and ${size} times its length (${describe(value)}, ${size} ranks)`);
  }
  return o;
}

/** Rank q's part of gather's `out` (n elements each). */
export const gatherPart = (out: Typed, q: number, n: number): Typed => out.subarray(q * n, (q + 1) * n);

/**
 * A received value in `out` (copied unless it was received into it): INVALID_ARGUMENT naming both when it is
 * not a typed array of out's type and length (a rank that sent another value than this rank expects).
 */
export function receivedInto(p: Payload, out: Typed, what: string): Typed {
  const b = p.bytes;
  const ok = p.dtype === typedDtype(out) && b.byteLength === out.byteLength;
  if (!ok) {
    const got = p.dtype === DType.Number ? "a number" : p.dtype === DType.Value || p.dtype === DType.None ? "a value that is not a typed array" : `${DType[p.dtype]} of ${b.byteLength} bytes`;
    throw commError("INVALID_ARGUMENT", `${what}: out (${describe(out)}) cannot take ${got}`);
  }
  if (b.buffer === out.buffer && b.byteOffset === out.byteOffset) return out; // received in place
  out.set(typedOf(p.dtype, b));
  return out;
}

/** A value (a path's result) in `out`: INVALID_ARGUMENT as receivedInto when it is not a typed array of out's type and length. */
export function valueInto(v: unknown, out: Typed, what: string): Typed {
  if (v === out) return out;
  if (typedDtype(v) !== typedDtype(out) || (v as Typed).length !== out.length) throw commError("INVALID_ARGUMENT", `${what}: out (${describe(out)}) cannot take ${describe(v)}`);
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
