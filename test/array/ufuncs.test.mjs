// The rest of numpy's ufuncs (tan ... fmin) against numpy itself: the same values (bit for bit where the
// operation is exact; within 2 ulp for libm functions) and the same result dtypes, with special values,
// int32 edge cases, float32, and chunked (fused) and eager paths agreeing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fromArray, compute } from "../../dist/index.js";
import { throwsCode } from "../helpers/check.mjs";

const PY = "/usr/bin/python3";
const hasNumpy = spawnSync(PY, ["-c", "import numpy"]).status === 0;
const peer = hasNumpy ? test : process.env.TESSERA_INTEROP === "1" ? () => test("numpy is installed", () => assert.unreachable("python3-numpy is missing")) : test.skip;

const F = [-3.5, -2.5, -1, -0.75, -0.5, -0, 0, 0.3, 0.5, 0.75, 1, 1.5, 2.5, 7, 1e300, -1e-300, NaN, Infinity, -Infinity];
const I = [-7, -3, -1, 0, 1, 2, 5, 2147483647, -2147483648];
const UNARY = ["tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2", "log10", "exp2", "sign", "isinf", "isfinite", "square", "reciprocal", "rint"];
const BINARY = ["arctan2", "hypot", "mod", "floorDivide", "fmax", "fmin", "logicalAnd", "logicalOr", "logicalXor"];
const EXACT = new Set(["sign", "isinf", "isfinite", "square", "reciprocal", "rint", "mod", "floorDivide", "fmax", "fmin", "logicalAnd", "logicalOr", "logicalXor", "hypot"]);
const NP = { floorDivide: "floor_divide", logicalAnd: "logical_and", logicalOr: "logical_or", logicalXor: "logical_xor", mod: "remainder" };
const DT = { float64: "<f8", float32: "<f4", int32: "<i4", bool: "|b1" };
const ours = (d) => ({ "<f8": "float64", "<f4": "float32", "<i4": "int32", "|i1": "int32", "|b1": "bool", "<f2": "float32" })[d] ?? d;

/** numpy's results for every case: { dtype, values } (values as strings: bits survive JSON) */
function numpy(cases) {
  const code = `
import json, sys, numpy as np, warnings
warnings.simplefilter("ignore")
out = []
for c in json.loads(sys.stdin.read()):
    args = [np.array([float(v) for v in a], dtype=t) for a, t in zip(c["args"], c["types"])]
    fn = c["fn"]
    if fn == "rint": r = np.rint(args[0])
    elif fn == "round": r = np.round(args[0], c["decimals"])
    else: r = getattr(np, fn)(*args)
    out.append({"dtype": r.dtype.str, "values": [repr(float(v)) for v in r.astype(np.float64)]})
print(json.dumps(out))`;
  const r = spawnSync(PY, ["-c", code], { input: JSON.stringify(cases), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).map((o) => ({ dtype: o.dtype, values: o.values.map((v) => (v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number(v))) }));
}

/**
 * libm functions may differ in the last bits (2 ulp allowed); numpy computes float32 ones in float32
 * (atan2f...), tessera in float64 then rounds, so float32 gets 2 float32 ulp.
 */
function agree(got, want, exact, what, float32 = false) {
  const eps = float32 ? 2 ** -23 : Number.EPSILON;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
    if (!exact && Number.isFinite(w) && Math.abs(g - w) <= 2 * eps * Math.max(Math.abs(w), Number.MIN_VALUE)) continue;
    assert.unreachable(`${what}: element ${i}: tessera ${Object.is(g, -0) ? "-0" : g}, numpy ${Object.is(w, -0) ? "-0" : w}`);
  }
}

const typed = (dtype, vals) => ({ float64: Float64Array, float32: Float32Array, int32: Int32Array, bool: Uint8Array })[dtype].from(vals.map((v) => (dtype === "bool" ? (v ? 1 : 0) : v)));

peer("unary ufuncs: values and dtypes as numpy, for float64, float32, int32 and bool inputs", async () => {
  const inputs = { float64: F, float32: F.map(Math.fround), int32: I, bool: [0, 1, 1, 0] };
  const cases = [];
  for (const fn of UNARY) for (const [dtype, vals] of Object.entries(inputs)) {
    if (fn === "sign" && dtype === "bool") continue; // numpy refuses it, as tessera does
    // float functions of bool: numpy gives float16, tessera float32 (README): compared as float32 below
    if (dtype === "bool" && !EXACT.has(fn)) continue;
    cases.push({ fn, dtype, args: [vals.map(String)], types: [DT[dtype]] });
  }
  const want = numpy(cases.map((c) => ({ ...c, fn: NP[c.fn] ?? c.fn })));
  for (let c = 0; c < cases.length; c++) {
    const { fn, dtype, args } = cases[c];
    const x = fromArray(typed(dtype, args[0].map(Number)), { chunks: 3 });
    const [lazy] = await compute(x[fn]());
    const eager = (await x.compute())[fn]();
    assert.is(lazy.dtype, ours(want[c].dtype), `${fn}(${dtype}) dtype`);
    agree(Array.from(lazy.data), want[c].values, EXACT.has(fn), `${fn}(${dtype}) chunked`, lazy.dtype === "float32");
    assert.equal(Array.from(eager.data), Array.from(lazy.data), `${fn}(${dtype}) eager = chunked`);
  }
  throwsCode(() => fromArray([true, false]).sign(), "INVALID_DTYPE");
});

peer("binary ufuncs: values and dtypes as numpy, over every pair of special values, int32 edge cases included", async () => {
  const pairs = (vals) => [vals.flatMap((a) => vals.map(() => a)), vals.flatMap(() => vals)];
  const inputs = { float64: pairs(F), float32: pairs(F.map(Math.fround)), int32: pairs(I) };
  const cases = [];
  for (const fn of BINARY) for (const [dtype, [a, b]] of Object.entries(inputs)) cases.push({ fn, dtype, args: [a.map(String), b.map(String)], types: [DT[dtype], DT[dtype]] });
  const want = numpy(cases.map((c) => ({ ...c, fn: NP[c.fn] ?? c.fn })));
  for (let c = 0; c < cases.length; c++) {
    const { fn, dtype, args } = cases[c];
    const x = fromArray(typed(dtype, args[0].map(Number)), { chunks: 7 });
    const y = fromArray(typed(dtype, args[1].map(Number)), { chunks: 5 });
    const r = await x[fn](y).compute();
    assert.is(r.dtype, ours(want[c].dtype), `${fn}(${dtype}) dtype`);
    agree(Array.from(r.data), want[c].values, EXACT.has(fn) && !(fn === "hypot" && dtype === "float32"), `${fn}(${dtype})`, r.dtype === "float32");
  }
});

peer("round(decimals): half to even at any number of digits, integers kept, as numpy", async () => {
  const vals = [1.25, 1.35, -2.5, 2.5, 0.125, 1255, -1255, 12345.678, -0.4, NaN, Infinity];
  const ints = [1255, -1255, 15, 25, 0, 2147483600];
  const cases = [];
  for (const d of [0, 1, 2, -1, -2]) {
    cases.push({ fn: "round", decimals: d, dtype: "float64", args: [vals.map(String)], types: ["<f8"] });
    cases.push({ fn: "round", decimals: d, dtype: "float32", args: [vals.map((v) => String(Math.fround(v)))], types: ["<f4"] });
    cases.push({ fn: "round", decimals: d, dtype: "int32", args: [ints.map(String)], types: ["<i4"] });
  }
  const want = numpy(cases);
  for (let c = 0; c < cases.length; c++) {
    const { decimals, dtype, args } = cases[c];
    const r = await fromArray(typed(dtype, args[0].map(Number)), { chunks: 4 }).round(decimals).compute();
    assert.is(r.dtype, ours(want[c].dtype), `round(${dtype}, ${decimals}) dtype`);
    agree(Array.from(r.data), want[c].values, true, `round(${dtype}, ${decimals})`);
  }
  throwsCode(() => fromArray([1.5]).round(0.5), "INVALID_ARGUMENT", "0.5");
});

test("logical ufuncs with numbers and booleans, and remainder as an alias of mod", async () => {
  const x = fromArray([0, 2, NaN, -1], { chunks: 2 });
  assert.equal((await x.logicalAnd(1).compute()).toArray(), [false, true, true, true]);
  assert.equal((await x.logicalOr(false).compute()).toArray(), [false, true, true, true]);
  assert.equal((await x.logicalXor(true).compute()).toArray(), [true, false, false, false]);
  assert.equal(Array.from((await fromArray([-7, 7]).remainder(3).compute()).data), [2, 1]);
  assert.equal(Array.from((await fromArray(Int32Array.from([-7, 7])).floorDivide(-2).compute()).data), [3, -4]);
});

test.run();
