/** Elementwise operations of ChunkedArray and NDArray against the reference oracle (README dtype rules). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromArray, compute, where, full, arange, NDArray, ChunkedArray } from "../../dist/index.js";
import * as R from "../helpers/reference.mjs";
import { input, OTHER, VALUES } from "../helpers/inputs.mjs";
import { sameArray, throwsCode } from "../helpers/check.mjs";

const DT = ["float64", "float32", "int32", "bool"];
const EXACT_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"];
const TRANSCENDENTAL = ["exp", "log", "sin", "cos", "tanh"];

/** A chunked array of a dtype's test values, shape [4, 5], with the given chunks. */
const chunked = (dtype, chunks = [3, 2], values = VALUES[dtype]) => {
  const { typed } = input(dtype, [4, 5], values);
  return fromArray(typed, { shape: [4, 5], chunks });
};
const refOf = (dtype, values = VALUES[dtype]) => input(dtype, [4, 5], values).ref;

function tolFor(op, dtype) {
  if (op === "pow") return R.isFloat(dtype) ? 2 : 0;
  if (TRANSCENDENTAL.includes(op)) return 2;
  return 0;
}

// ------------------------------------------------------------------------ binary ops, every dtype pair

const PAIR_TESTS = [...EXACT_BINARY.map((op) => [op, "every dtype pair"]), ["pow", "float pairs"], ["pow", "int32/bool pairs"]];
for (const [op, which] of PAIR_TESTS) {
  test(`binary ${op}: ${which}, arrays with different chunks, against the reference`, async () => {
    const outs = [];
    const checks = [];
    for (const da of DT) {
      for (const db of DT) {
        if (which !== "every dtype pair" && R.isFloat(R.promote(da, db)) !== (which === "float pairs")) continue;
        const x = chunked(da, [3, 2]);
        const y = chunked(db, [[1, 3], [4, 1]], OTHER[db]);
        const rx = refOf(da);
        const ry = refOf(db, OTHER[db]);
        const t = R.operandType([rx, ry]);
        if (op === "sub" && t === "bool") {
          throwsCode(() => x.sub(y), "INVALID_DTYPE");
          continue;
        }
        if (op === "pow" && (t === "int32" || t === "bool")) {
          // numpy refuses negative integer powers: use non-negative exponents only
          const yy = chunked(db, [[1, 3], [4, 1]], OTHER[db].map((v) => Math.abs(v)));
          outs.push(x.pow(yy));
          checks.push({ what: `${da} pow ${db}`, ref: R.binary("pow", rx, refOf(db, OTHER[db].map((v) => Math.abs(v)))), tol: 0 });
          continue;
        }
        const r = x[op](y);
        assert.instance(r, ChunkedArray);
        assert.equal(r.chunks, [[1, 2, 1], [2, 2, 1]], `${da} ${op} ${db}: chunks are the common refinement`);
        outs.push(r);
        checks.push({ what: `${da} ${op} ${db}`, ref: R.binary(op, rx, ry), tol: tolFor(op, t), zeroSign: !["maximum", "minimum"].includes(op) });
      }
    }
    const results = await compute(...outs);
    results.forEach((nd, i) => sameArray(nd, checks[i].ref, checks[i]));
  });
}

test("binary ops with number operands on every dtype (weak scalars)", async () => {
  const outs = [];
  const checks = [];
  const scalars = [0, 1, -3, 2.5, 0.1, -0.75, 1e10];
  for (const d of DT) {
    const x = chunked(d, 2);
    const rx = refOf(d);
    for (const op of [...EXACT_BINARY, "pow"]) {
      for (const s of scalars) {
        const t = R.operandType([rx, s]);
        if (t === "int32" && (s > 2147483647 || s < -2147483648)) {
          throwsCode(() => x[op](s), "INVALID_ARGUMENT", String(s));
          continue;
        }
        if (op === "sub" && t === "bool") continue;
        if (op === "pow" && (t === "int32" || t === "bool") && s < 0) continue;
        outs.push(x[op](s));
        checks.push({ what: `${d} ${op} ${s}`, ref: R.binary(op, rx, s), tol: tolFor(op, t), zeroSign: !["maximum", "minimum"].includes(op) });
      }
    }
  }
  const results = await compute(...outs);
  results.forEach((nd, i) => sameArray(nd, checks[i].ref, checks[i]));
});

// ------------------------------------------------------------------------ unary ops

test("JS booleans are bools (numpy's Python bool): bool with bool stays bool, other dtypes win", async () => {
  const b = fromArray([true, false, true]);
  const i = fromArray(new Int32Array([1, 2, 3]));
  const f = fromArray(new Float32Array([1.5, 2, 3]));
  const got = async (x) => { const r = await x.compute(); return [r.dtype, Array.from(r.data)]; };
  assert.equal(await got(b.add(true)), ["bool", [1, 1, 1]]); // numpy: logical or
  assert.equal(await got(b.mul(false)), ["bool", [0, 0, 0]]);
  assert.equal(await got(b.maximum(true)), ["bool", [1, 1, 1]]);
  assert.equal(await got(i.add(true)), ["int32", [2, 3, 4]]);
  assert.equal(await got(f.add(true)), ["float32", [2.5, 3, 4]]);
  assert.equal(await got(where(b, true, false)), ["bool", [1, 0, 1]]);
  assert.equal(await got(where(b, b, false)), ["bool", [1, 0, 1]]);
  assert.equal(await got(where(b, 1, false)), ["int32", [1, 0, 1]]);
  assert.equal(await got(b.eq(true)), ["bool", [1, 0, 1]]);
  throwsCode(() => b.sub(true), "INVALID_DTYPE");
  const nb = await b.compute(); // the eager NDArray follows the same rules
  const e = nb.add(true);
  assert.is(e.dtype, "bool");
  assert.equal(Array.from(e.data), [1, 1, 1]);
  assert.is(where(nb, true, 2.5).dtype, "float64");
});

test("clip with one bound null is one-sided (numpy's None); both null is INVALID_ARGUMENT", async () => {
  const x = arange(-3, 4, { chunks: 3 });
  const vals = async (y) => Array.from((await y.compute()).data);
  assert.equal(await vals(x.clip(null, 1)), [-3, -2, -1, 0, 1, 1, 1]);
  assert.equal(await vals(x.clip(0, null)), [0, 0, 0, 0, 1, 2, 3]);
  assert.equal(await vals(x.clip(-1, 1)), [-1, -1, -1, 0, 1, 1, 1]);
  assert.equal(Array.from((await x.compute()).clip(null, 0).data), [-3, -2, -1, 0, 0, 0, 0]);
  throwsCode(() => x.clip(null, null), "INVALID_ARGUMENT", "both are null");
  throwsCode(() => x.clip("a", 1), "INVALID_ARGUMENT", '"a"');
});

test("unary ops on every dtype against the reference (exact, transcendentals within 2 ulp)", async () => {
  const outs = [];
  const checks = [];
  for (const d of DT) {
    const x = chunked(d, [[2, 2], [5]]);
    const rx = refOf(d);
    for (const op of R.UNARY) {
      if (op === "neg" && d === "bool") {
        throwsCode(() => x.neg(), "INVALID_DTYPE");
        continue;
      }
      outs.push(x[op]());
      checks.push({ what: `${op}(${d})`, ref: R.unary(op, rx), tol: tolFor(op, d) });
    }
  }
  const results = await compute(...outs);
  results.forEach((nd, i) => sameArray(nd, checks[i].ref, checks[i]));
});

test("unary result dtypes follow the README (int32 -> float64, float32 stays float32)", () => {
  const i = chunked("int32");
  const f = chunked("float32");
  assert.is(i.sqrt().dtype, "float64");
  assert.is(i.exp().dtype, "float64");
  assert.is(i.abs().dtype, "int32");
  assert.is(i.neg().dtype, "int32");
  assert.is(f.sqrt().dtype, "float32");
  assert.is(f.tanh().dtype, "float32");
  assert.is(i.isnan().dtype, "bool");
  assert.is(f.not().dtype, "bool");
});

// ------------------------------------------------------------------------ promotion rules

test("promotion: int32 + float32 -> float64 (exact values)", async () => {
  const a = fromArray(new Int32Array([16777217, -3, 7]), { chunks: 2 });
  const b = fromArray(new Float32Array([0.5, 0.1, 1]), { chunks: 1 });
  const r = a.add(b);
  assert.is(r.dtype, "float64");
  const nd = await r.compute();
  assert.equal(Array.from(nd.data), [16777217.5, -3 + Math.fround(0.1), 8]);
});

test("promotion: float32 array + 0.1 stays float32, rounded with fround after the op", async () => {
  const vals = [1, 0.2, 3.3, 1e7, -0.1].map(Math.fround);
  const a = fromArray(new Float32Array(vals), { chunks: 2 });
  const r = a.add(0.1);
  assert.is(r.dtype, "float32");
  const nd = await r.compute();
  assert.instance(nd.data, Float32Array);
  const want = vals.map((v) => Math.fround(v + Math.fround(0.1)));
  for (let i = 0; i < vals.length; i++) assert.ok(Object.is(nd.data[i], want[i]), `element ${i}: ${nd.data[i]} vs ${want[i]}`);
  // the weak scalar 0.1 compares equal to a float32 0.1 (it is converted to float32 first)
  const eq = await fromArray(new Float32Array([0.1, 0.2])).eq(0.1).compute();
  assert.equal(Array.from(eq.data), [1, 0]);
  // chained float32 arithmetic is rounded after every step
  const c = await a.mul(3).add(0.7).div(1.1).compute();
  const wantC = vals.map((v) => Math.fround(Math.fround(Math.fround(v * 3) + Math.fround(0.7)) / Math.fround(1.1)));
  for (let i = 0; i < vals.length; i++) assert.ok(Object.is(c.data[i], wantC[i]), `chained element ${i}: ${c.data[i]} vs ${wantC[i]}`);
});

test("promotion: int32 + 1.5 -> float64; int32 + 2 stays int32; int32 / int32 -> float64", async () => {
  const a = fromArray(new Int32Array([1, -2, 2147483647]));
  assert.is(a.add(1.5).dtype, "float64");
  assert.equal(Array.from((await a.add(1.5).compute()).data), [2.5, -0.5, 2147483648.5]);
  assert.is(a.add(2).dtype, "int32");
  assert.is(a.div(a).dtype, "float64");
  assert.equal(Array.from((await a.div(2).compute()).data), [0.5, -1, 1073741823.5]);
});

test("promotion: bool + bool -> bool (logical or), bool * bool -> and, bool + 1 -> int32", async () => {
  const a = fromArray([true, true, false, false]);
  const b = fromArray([true, false, true, false]);
  assert.is(a.dtype, "bool");
  const [s, p, i] = await compute(a.add(b), a.mul(b), a.add(1));
  assert.is(s.dtype, "bool");
  assert.equal(Array.from(s.data), [1, 1, 1, 0]);
  assert.equal(Array.from(p.data), [1, 0, 0, 0]);
  assert.is(i.dtype, "int32");
  assert.equal(Array.from(i.data), [2, 2, 1, 1]);
});

test("int32 overflow wraps as numpy (add, sub, mul, neg, abs)", async () => {
  const a = fromArray(new Int32Array([2147483647, -2147483648, 65536, 46341]), { chunks: 3 });
  const [add, sub, mul, neg, abs] = await compute(a.add(1), a.sub(1), a.mul(a), a.neg(), a.abs());
  assert.equal(Array.from(add.data), [-2147483648, -2147483647, 65537, 46342]);
  assert.equal(Array.from(sub.data), [2147483646, 2147483647, 65535, 46340]);
  assert.equal(Array.from(mul.data), [1, 0, 0, Math.imul(46341, 46341)]);
  assert.equal(Array.from(neg.data), [-2147483647, -2147483648, -65536, -46341]);
  assert.equal(Array.from(abs.data), [2147483647, -2147483648, 65536, 46341]);
});

test("int32 pow by negative exponents in an array: the real power truncated and saturated (numpy raises)", async () => {
  const a = fromArray(new Int32Array([2, 3, 1, -1, -1, 0, 5, -2, 7]), { chunks: 4 });
  const e = fromArray(new Int32Array([-1, -2, -5, -1, -2, -1, 2, 3, 0]), { chunks: 3 });
  const want = [0, 0, 1, -1, 1, 2 ** 31 - 1, 25, -8, 1];
  assert.equal(Array.from((await a.pow(e).compute()).data), want);
  assert.equal(Array.from((await a.compute()).pow(await e.compute()).data), want, "eager NDArray");
  const c = full([4], -1, { dtype: "int32" }).pow(fromArray(new Int32Array([-3, -4, 3, 4])));
  assert.equal(Array.from((await c.compute()).data), [-1, 1, -1, 1]);
  throwsCode(() => a.pow(-1), "INVALID_ARGUMENT", "negative integer powers"); // a scalar is refused up front, as numpy
});

test("pow follows C and numpy at the specials: 1 ** NaN, 1 ** ±Inf, (-1) ** ±Inf, x ** ±0 are 1", async () => {
  const base = [1, 1, 1, -1, -1, NaN, Infinity, 2, -1];
  const expo = [NaN, Infinity, -Infinity, Infinity, -Infinity, 0, -0, NaN, NaN];
  const want = [1, 1, 1, 1, 1, 1, 1, NaN, NaN];
  for (const dtype of ["float64", "float32"]) {
    const a = fromArray(base, { chunks: 4 }).astype(dtype), e = fromArray(expo, { chunks: 3 }).astype(dtype);
    const r = await a.pow(e).compute();
    assert.is(r.dtype, dtype);
    assert.equal(Array.from(r.data), want, `${dtype} lazy`);
    assert.equal(Array.from((await a.compute()).pow(await e.compute()).data), want, `${dtype} eager`);
  }
  const ones = fromArray([1, -1, 1]);
  assert.equal(Array.from((await ones.pow(Infinity).compute()).data), [1, 1, 1], "scalar exponent");
  assert.equal(Array.from((await ones.pow(NaN).compute()).data), [1, NaN, 1], "scalar NaN exponent");
});

test("int32 pow overflow wraps as numpy (2147483647**2 = 1, 65536**2 = 0)", async () => {
  const a = fromArray(new Int32Array([2147483647, -2147483648, 65536, 46341]), { chunks: 3 });
  const sq = await a.pow(2).compute();
  assert.equal(Array.from(sq.data), [1, 0, 0, Math.imul(46341, 46341)]);
});

test("int32 pow wraps exactly even when the true power exceeds 2^53 (7**20, 3**40)", async () => {
  const a = fromArray(new Int32Array([7, 3, -5]));
  const wrap = (x) => Number(BigInt.asIntN(32, x));
  const [p20, p40] = await compute(a.pow(20), a.pow(40));
  assert.equal(Array.from(p20.data), [wrap(7n ** 20n), wrap(3n ** 20n), wrap((-5n) ** 20n)]);
  assert.equal(Array.from(p40.data), [wrap(7n ** 40n), wrap(3n ** 40n), wrap((-5n) ** 40n)]);
});

test("an integer scalar out of int32 range with an int32 array is an INVALID_ARGUMENT naming it", () => {
  const a = arange(10);
  assert.is(a.dtype, "int32");
  throwsCode(() => a.add(2 ** 31), "INVALID_ARGUMENT", String(2 ** 31));
  throwsCode(() => a.mul(-(2 ** 31) - 1), "INVALID_ARGUMENT", String(-(2 ** 31) - 1));
  // a float array takes any scalar
  assert.is(arange(10, { dtype: "float64" }).add(2 ** 40).dtype, "float64");
});

test("a non-number operand is an INVALID_ARGUMENT naming it", () => {
  const a = arange(4);
  throwsCode(() => a.add("3"), "INVALID_ARGUMENT", '"3"');
  throwsCode(() => a.mul({ x: 1 }), "INVALID_ARGUMENT", '{"x":1}');
  throwsCode(() => a.add(null), "INVALID_ARGUMENT", "null");
});

test("bool sub and bool neg are INVALID_DTYPE at build time", () => {
  const b = fromArray([true, false]);
  throwsCode(() => b.sub(b), "INVALID_DTYPE");
  throwsCode(() => b.neg(), "INVALID_DTYPE");
});

// ------------------------------------------------------------------------ broadcasting

test("broadcasting [3, 1] with [4] gives [3, 4]", async () => {
  const a = fromArray([[1], [2], [3]], { chunks: [2, 1] });
  const b = fromArray([10, 20, 30, 40], { chunks: 3 });
  const r = a.mul(b).add(a);
  assert.equal(r.shape, [3, 4]);
  const want = R.binary("add", R.binary("mul", R.array([1, 2, 3], [3, 1]), R.array([10, 20, 30, 40], [4])), R.array([1, 2, 3], [3, 1]));
  sameArray(await r.compute(), want);
  assert.equal(r.chunks, [[2, 1], [3, 1]]);
});

test("broadcasting on every axis of 3-D arrays against the reference", async () => {
  const mk = (shape, seed) => R.array(Array.from({ length: R.sizeOf(shape) }, (_, i) => ((i * 7 + seed) % 11) - 5), shape);
  const cases = [
    [[2, 1, 4], [3, 1]],
    [[1, 3, 1], [2, 1, 4]],
    [[2, 3, 4], [4]],
    [[2, 3, 4], [1, 1, 1]],
    [[5], [2, 3, 1]],
    [[], [2, 3, 4]],
  ];
  for (const [sa, sb] of cases) {
    const ra = mk(sa, 1);
    const rb = mk(sb, 4);
    const a = fromArray(new Float64Array(ra.data), { shape: sa, chunks: sa.map(() => 2) });
    const b = fromArray(new Float64Array(rb.data), { shape: sb, chunks: sb.map(() => 1) });
    for (const op of ["sub", "div", "lt"]) sameArray(await a[op](b).compute(), R.binary(op, ra, rb), { what: `[${sa}] ${op} [${sb}]` });
  }
});

test("shapes that do not broadcast are SHAPE_MISMATCH at build time, naming the shapes", () => {
  const a = fromArray(new Float64Array(6), { shape: [2, 3] });
  const b = fromArray(new Float64Array(4), { shape: [4] });
  throwsCode(() => a.add(b), "SHAPE_MISMATCH", "[2, 3]", "[4]");
  throwsCode(() => where(a.gt(0), a, b), "SHAPE_MISMATCH");
});

test("scalars on both sides: x.sub(s) and a 0-d array minus x", async () => {
  const vals = [1, -2, 0.5, NaN, Infinity];
  const x = fromArray(vals, { chunks: 2 });
  const s = fromArray(10);
  assert.equal(s.shape, []);
  const [right, left, both] = await compute(x.sub(10), s.sub(x), s.sub(s.mul(2)));
  sameArray(right, R.binary("sub", R.array(vals, [5]), 10));
  sameArray(left, R.binary("sub", 10, R.array(vals, [5])));
  assert.equal(both.shape, []);
  assert.is(both.get(), -10);
});

// ------------------------------------------------------------------------ different chunkings

test("arrays with different chunks combine on the common refinement", async () => {
  const n = 23;
  const ra = R.array(Array.from({ length: n * 3 }, (_, i) => i * 0.5), [n, 3]);
  const rb = R.array(Array.from({ length: n * 3 }, (_, i) => (i % 7) - 3), [n, 3]);
  const a = fromArray(new Float64Array(ra.data), { shape: [n, 3], chunks: [[10, 10, 3], [3]] });
  const b = fromArray(new Float64Array(rb.data), { shape: [n, 3], chunks: [[7, 7, 9], [1, 2]] });
  const r = a.mul(b).sub(a);
  assert.equal(r.chunks, [[7, 3, 4, 6, 3], [1, 2]]);
  assert.equal(r.numblocks, [5, 2]);
  sameArray(await r.compute(), R.binary("sub", R.binary("mul", ra, rb), ra));
  // a lazy source with yet another chunking
  const c = arange(n * 3, { chunks: 13 }).astype("float64");
  assert.ok(c.ndim === 1);
  const r2 = a.add(fromArray(new Float64Array(n * 3).map((_, i) => i), { shape: [n, 3], chunks: [[5, 18], [2, 1]] }));
  assert.equal(r2.chunks, [[5, 5, 10, 3], [2, 1]]);
  sameArray(await r2.compute(), R.binary("add", ra, R.array(Array.from({ length: n * 3 }, (_, i) => i), [n, 3])));
});

// ------------------------------------------------------------------------ comparisons, NaN, infinities

test("comparisons give bool arrays; NaN compares unequal to everything", async () => {
  const x = fromArray([NaN, 1, Infinity, -Infinity, 0, -0], { chunks: 4 });
  const y = fromArray([NaN, NaN, Infinity, 0, -0, 0], { chunks: 5 });
  const [eq, ne, lt, le, gt, ge] = await compute(x.eq(y), x.ne(y), x.lt(y), x.le(y), x.gt(y), x.ge(y));
  for (const r of [eq, ne, lt, le, gt, ge]) {
    assert.is(r.dtype, "bool");
    assert.instance(r.data, Uint8Array);
  }
  assert.equal(Array.from(eq.data), [0, 0, 1, 0, 1, 1]);
  assert.equal(Array.from(ne.data), [1, 1, 0, 1, 0, 0]);
  assert.equal(Array.from(lt.data), [0, 0, 0, 1, 0, 0]);
  assert.equal(Array.from(le.data), [0, 0, 1, 1, 1, 1]);
  assert.equal(Array.from(gt.data), [0, 0, 0, 0, 0, 0]);
  assert.equal(Array.from(ge.data), [0, 0, 1, 0, 1, 1]);
  assert.equal((await x.eq(y).compute()).toArray(), [false, false, true, false, true, true]);
});

test("NaN and infinities propagate as numpy", async () => {
  const x = fromArray([NaN, Infinity, -Infinity, 1, 0], { chunks: 2 });
  const [add, mul, max, min, div, sub] = await compute(x.add(1), x.mul(0), x.maximum(0), x.minimum(0), x.div(0), x.sub(x));
  sameArray(add, R.array([NaN, Infinity, -Infinity, 2, 1], [5]));
  sameArray(mul, R.array([NaN, NaN, NaN, 0, 0], [5]));
  sameArray(max, R.array([NaN, Infinity, 0, 1, 0], [5]), { zeroSign: false });
  sameArray(min, R.array([NaN, 0, -Infinity, 0, 0], [5]), { zeroSign: false });
  sameArray(div, R.array([NaN, Infinity, -Infinity, Infinity, NaN], [5]));
  sameArray(sub, R.array([NaN, NaN, NaN, 0, 0], [5]));
  // maximum/minimum propagate NaN from either side
  const y = fromArray([1, NaN, 2]);
  const z = fromArray([NaN, 1, 3]);
  const [mx, mn] = await compute(y.maximum(z), y.minimum(z));
  sameArray(mx, R.array([NaN, NaN, 3], [3]));
  sameArray(mn, R.array([NaN, NaN, 2], [3]));
});

// ------------------------------------------------------------------------ where, clip, astype

test("where with arrays, numbers and broadcasting; dtype from the two branches", async () => {
  const c = fromArray([true, false, true, false, true, false], { chunks: 4 });
  const a = fromArray(new Int32Array([1, 2, 3, 4, 5, 6]), { chunks: 2 });
  const b = fromArray(new Float32Array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5]), { chunks: 3 });
  const rc = R.array([1, 0, 1, 0, 1, 0], [6], "bool");
  const ra = R.array([1, 2, 3, 4, 5, 6], [6], "int32");
  const rb = R.array([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], [6], "float32");
  const w1 = where(c, a, b);
  assert.instance(w1, ChunkedArray);
  assert.is(w1.dtype, "float64");
  const w2 = where(c, a, -1);
  assert.is(w2.dtype, "int32");
  const w3 = where(c, 0.5, a);
  assert.is(w3.dtype, "float64");
  const w4 = where(a.gt(3), b, 100);
  assert.is(w4.dtype, "float32");
  const [r1, r2, r3, r4] = await compute(w1, w2, w3, w4);
  sameArray(r1, R.where(rc, ra, rb));
  sameArray(r2, R.where(rc, ra, -1));
  sameArray(r3, R.where(rc, 0.5, ra));
  sameArray(r4, R.where(R.binary("gt", ra, 3), rb, 100));
  // broadcast condition [3, 1] over [3, 4]
  const cc = fromArray([[true], [false], [true]]);
  const w5 = where(cc, fromArray([1, 2, 3, 4], { chunks: 3 }), fromArray([[7], [8], [9]], { chunks: 2 }));
  assert.equal(w5.shape, [3, 4]);
  sameArray(await w5.compute(), R.where(R.array([1, 0, 1], [3, 1], "bool"), R.array([1, 2, 3, 4], [4]), R.array([7, 8, 9], [3, 1])));
});

test("where with a float condition: non-zero (and NaN, as numpy) selects the first branch", async () => {
  const c = fromArray([0, 2, -0, NaN, -1]);
  const r = await where(c, 1, 2).compute();
  sameArray(r, R.where(R.array([0, 2, -0, NaN, -1], [5]), 1, 2));
});

test("where of two numbers: integers give int32 (numpy an integer), out of int32 range or fractional float64", async () => {
  const c = fromArray([true, false, true], { chunks: 2 });
  const got = async (x) => { const r = await x.compute(); return [r.dtype, Array.from(r.data)]; };
  assert.equal(await got(where(c, 1, 2)), ["int32", [1, 2, 1]]);
  assert.equal(await got(where(c, -(2 ** 31), 2 ** 31 - 1)), ["int32", [-(2 ** 31), 2 ** 31 - 1, -(2 ** 31)]]);
  assert.equal(await got(where(c, 1, 3e9)), ["float64", [1, 3e9, 1]]);
  assert.equal(await got(where(c, 1, 2.5)), ["float64", [1, 2.5, 1]]);
  assert.equal(await got(where(c, 1, NaN)), ["float64", [1, NaN, 1]]);
  const e = where(await c.compute(), 7, -7);
  assert.equal([e.dtype, Array.from(e.data)], ["int32", [7, -7, 7]], "eager");
});

test("where refuses an integer scalar no int32 holds next to an int32 array, as binary ops do", async () => {
  const c = fromArray([true, false]);
  const a = fromArray(new Int32Array([5, 6]));
  throwsCode(() => where(c, a, 3e9), "INVALID_ARGUMENT", "3000000000");
  throwsCode(() => where(c, -(2 ** 31) - 1, a), "INVALID_ARGUMENT", "-2147483649");
  throwsCode(() => a.add(3e9), "INVALID_ARGUMENT", "3000000000");
  throwsCode(() => where(c, a, 2 ** 40), "INVALID_ARGUMENT", String(2 ** 40));
  const [nc, nd] = [await c.compute(), await a.compute()];
  throwsCode(() => where(nc, nd, 3e9), "INVALID_ARGUMENT", "3000000000");
  const r = await where(c, a, 2 ** 31 - 1).compute(); // the edge fits
  assert.equal([r.dtype, Array.from(r.data)], ["int32", [5, 2 ** 31 - 1]]);
  assert.is(where(c, a, 3e9 + 0.5).dtype, "float64"); // a fraction promotes instead
});

test("where with a scalar NaN condition selects the first branch (numpy: bool(nan) is True)", async () => {
  const a = fromArray([1, 2]);
  const r = await where(NaN, a, 0).compute();
  assert.equal(Array.from(r.data), [1, 2]);
});

test("clip: numbers, arrays, NaN propagates, dtype promotion", async () => {
  const vals = [-5, -1, 0, 0.5, 3, 10, NaN, Infinity, -Infinity];
  const x = fromArray(vals, { chunks: 4 });
  const rx = R.array(vals, [9]);
  const lo = fromArray([-2, -2, -2, 0, 0, 0, 1, 1, 1], { chunks: 2 });
  const rlo = R.array([-2, -2, -2, 0, 0, 0, 1, 1, 1], [9]);
  const [c1, c2, c3] = await compute(x.clip(-1, 2), x.clip(lo, 5), x.clip(lo, NaN));
  sameArray(c1, R.clip(rx, -1, 2), { zeroSign: false });
  sameArray(c2, R.clip(rx, rlo, 5), { zeroSign: false });
  sameArray(c3, R.clip(rx, rlo, NaN), { zeroSign: false });
  const i = fromArray(new Int32Array([-5, 0, 5, 9]));
  assert.is(i.clip(0, 3).dtype, "int32");
  assert.equal(Array.from((await i.clip(0, 3).compute()).data), [0, 0, 3, 3]);
  assert.is(i.clip(0.5, 3).dtype, "float64");
  assert.equal(Array.from((await i.clip(0.5, 3).compute()).data), [0.5, 0.5, 3, 3]);
});

test("astype: to int32 truncates toward zero, saturates, NaN -> 0", async () => {
  const vals = [1.9, -1.9, 0.5, -0.5, 3e9, -3e9, NaN, Infinity, -Infinity, 2147483647.5, -2147483648.7, 123456.999];
  const x = fromArray(vals, { chunks: 5 });
  const r = x.astype("int32");
  assert.is(r.dtype, "int32");
  const nd = await r.compute();
  assert.instance(nd.data, Int32Array);
  assert.equal(Array.from(nd.data), [1, -1, 0, 0, 2147483647, -2147483648, 0, 2147483647, -2147483648, 2147483647, -2147483648, 123456]);
  const f32 = fromArray(new Float32Array([1.5, -2.5, 3e38, NaN]));
  assert.equal(Array.from((await f32.astype("int32").compute()).data), [1, -2, 2147483647, 0]);
});

test("astype: every dtype to every dtype against the reference", async () => {
  const outs = [];
  const checks = [];
  for (const from of DT) {
    for (const to of DT) {
      outs.push(chunked(from, [2, 3]).astype(to));
      checks.push({ what: `${from} -> ${to}`, ref: R.astype(refOf(from), to) });
    }
  }
  const results = await compute(...outs);
  results.forEach((nd, i) => sameArray(nd, checks[i].ref, checks[i]));
  // int32 -> float32 rounds: 16777217 is not a float32
  const big = await fromArray(new Int32Array([16777217, 2147483647])).astype("float32").compute();
  assert.equal(Array.from(big.data), [16777216, 2147483648]);
  throwsCode(() => chunked("float64").astype("int64"), "INVALID_DTYPE", '"int64"');
});

// ------------------------------------------------------------------------ fused chains and the eager NDArray

test("a long fused chain on a lazy source matches the reference", async () => {
  const n = 1003;
  const x = arange(n, { chunks: 100 });
  const rx = R.array(Array.from({ length: n }, (_, i) => i), [n], "int32");
  const chain = (a, r) => [
    a.mul(3).sub(7).div(4).sqrt().add(a.astype("float32").neg()).maximum(-500).floor(),
    r(R.binary("maximum", R.binary("add", R.unary("sqrt", R.binary("div", R.binary("sub", R.binary("mul", rx, 3), 7), 4)), R.unary("neg", R.astype(rx, "float32"))), -500), "floor"),
  ];
  const [lazy, want] = chain(x, (v, op) => R.unary(op, v));
  sameArray(await lazy.compute(), want);
});

test("NDArray elementwise methods compute eagerly and agree with ChunkedArray", async () => {
  for (const d of DT) {
    const nd = await chunked(d).compute();
    assert.instance(nd, NDArray);
    const rx = refOf(d);
    const other = await chunked("float64", 2, OTHER.float64).compute();
    const ro = refOf("float64", OTHER.float64);
    sameArray(nd.mul(other), R.binary("mul", rx, ro), { what: `NDArray ${d} mul` });
    sameArray(nd.lt(2), R.binary("lt", rx, 2), { what: `NDArray ${d} lt` });
    sameArray(nd.sqrt(), R.unary("sqrt", rx), { what: `NDArray ${d} sqrt` });
    sameArray(nd.astype("int32"), R.astype(rx, "int32"), { what: `NDArray ${d} astype` });
    const eager = where(nd.isnan(), 0, nd);
    assert.instance(eager, NDArray);
    sameArray(eager, R.where(R.unary("isnan", rx), 0, rx), { what: `NDArray ${d} where` });
  }
  // a ChunkedArray combined with an NDArray operand stays lazy
  const nd = await chunked("float64").compute();
  const lazy = chunked("float64").add(nd);
  assert.instance(lazy, ChunkedArray);
  sameArray(await lazy.compute(), R.binary("add", refOf("float64"), refOf("float64")));
});

test("full() of a value combined with arrays takes the weak-scalar dtype rules for creation", async () => {
  assert.is(full([2, 2], 3).dtype, "float64");
  const r = await full([2, 2], 3, { dtype: "int32" }).add(full([2], 2.5)).compute();
  assert.is(r.dtype, "float64");
  assert.equal(Array.from(r.data), [5.5, 5.5, 5.5, 5.5]);
});

test.run();
