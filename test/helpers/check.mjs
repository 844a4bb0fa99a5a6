/** Assertions comparing engine results (NDArray, number, boolean) with the reference oracle. */
import * as assert from "uvu/assert";
import { fmt, ulps, unravel } from "./reference.mjs";

/** Asserts fn() throws (synchronously) an error with `code` whose message contains every `mentions`. */
export function throwsCode(fn, code, ...mentions) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!err) assert.unreachable(`expected a ${code} error, nothing was thrown`);
  checkError(err, code, mentions);
  return err;
}

/** Asserts the promise (or async fn) rejects with `code`, message containing every `mentions`. */
export async function rejectsCode(p, code, ...mentions) {
  let err;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    err = e;
  }
  if (!err) assert.unreachable(`expected a ${code} rejection, it resolved`);
  checkError(err, code, mentions);
  return err;
}

/** Formatting-insensitive form of a message: no whitespace or quotes ("[3,3]" matches "[3, 3]", {"x":1} matches {x: 1}). */
const norm = (s) => String(s).replace(/[\s"']/g, "");

/** Whether an error message names a value (exactly, or up to spacing and quoting of the value's formatting). */
export const mentions = (message, m) => String(message).includes(String(m)) || norm(message).includes(norm(m));

function checkError(err, code, mentionList) {
  assert.is(err?.code, code, `expected code ${code}, got ${err?.code}: ${err?.message ?? err}`);
  assert.ok(err instanceof Error, "an Error instance");
  for (const m of mentionList) {
    assert.ok(mentions(err.message, m), `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(String(m))}`);
  }
}

/**
 * Compares an NDArray with a reference array: shape, dtype and every element. `tol` is a number of ulps
 * (0: bit-identical, Object.is, so -0 and 0 differ and NaN equals NaN). `zeroSign: false` treats -0 as 0.
 */
export function sameArray(nd, ref, { tol = 0, zeroSign = true, what = "" } = {}) {
  const w = what ? `${what}: ` : "";
  assert.ok(nd && typeof nd === "object" && "data" in nd, `${w}expected an NDArray, got ${nd}`);
  assert.equal(nd.shape, ref.shape, `${w}shape`);
  assert.is(nd.dtype, ref.dtype, `${w}dtype`);
  assert.is(nd.data.length, ref.data.length, `${w}length`);
  for (let i = 0; i < ref.data.length; i++) {
    const got = nd.data[i];
    const want = ref.data[i];
    let ok;
    if (tol === 0) ok = Object.is(got, want) || (!zeroSign && got === 0 && want === 0);
    else ok = ulps(got, want, ref.dtype) <= tol || (!zeroSign && got === 0 && want === 0);
    if (!ok) {
      assert.unreachable(
        `${w}element ${i} [${unravel(i, ref.shape).join(", ")}] is ${fmt(got)}, expected ${fmt(want)}` + (tol ? ` (within ${tol} ulp)` : " (bit-exact)"),
      );
    }
  }
}

/** Relative/absolute closeness for results whose rounding depends on summation order. */
export function closeArray(nd, ref, { rtol = 1e-12, atol = 0, what = "" } = {}) {
  const w = what ? `${what}: ` : "";
  assert.equal(nd.shape, ref.shape, `${w}shape`);
  assert.is(nd.dtype, ref.dtype, `${w}dtype`);
  for (let i = 0; i < ref.data.length; i++) closeNumber(nd.data[i], ref.data[i], { rtol, atol, what: `${w}element ${i}` });
}

export function closeNumber(got, want, { rtol = 1e-12, atol = 0, what = "" } = {}) {
  if (want !== want) {
    assert.ok(got !== got, `${what}: expected NaN, got ${got}`);
    return;
  }
  if (!Number.isFinite(want)) {
    assert.is(got, want, what);
    return;
  }
  assert.ok(typeof got === "number" && Math.abs(got - want) <= atol + rtol * Math.abs(want), `${what}: got ${fmt(got)}, expected ${fmt(want)} (rtol ${rtol}, atol ${atol})`);
}

/** Byte equality of two typed arrays. */
export function sameBytes(a, b, what = "") {
  assert.is(a.constructor, b.constructor, `${what} typed array type`);
  assert.is(a.length, b.length, `${what} length`);
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) assert.unreachable(`${what} differs at byte ${i} (element ${Math.floor(i / a.BYTES_PER_ELEMENT)}: ${a[Math.floor(i / a.BYTES_PER_ELEMENT)]} vs ${b[Math.floor(i / b.BYTES_PER_ELEMENT)]})`);
  }
}

/** Runs a promise with a deadline. */
export function within(ms, p, what = "operation") {
  let t;
  const timeout = new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what} did not settle within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
