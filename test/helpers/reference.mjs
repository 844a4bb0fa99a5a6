/**
 * A small, deliberately naive numpy-like oracle over flat JS arrays + shape, following the dtype rules of
 * README.md. Nothing here is fast; everything is meant to be obviously correct.
 *
 *   const a = R.array([1, 2, 3, 4, 5, 6], [2, 3], "float64");   // { data: number[], shape, dtype }
 *   R.binary("add", a, 1)   R.unary("sqrt", a)   R.reduce("sum", a, { axis: [0], keepdims: true })
 *
 * bool values are stored as 0/1 numbers.
 */

export const DTYPES = ["float64", "float32", "int32", "bool"];

// ---------------------------------------------------------------------------------------------- arrays

export const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

export function stridesOf(shape) {
  const st = new Array(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = acc;
    acc *= shape[d];
  }
  return st;
}

/** Rounds / wraps a JS number to what an array of `dtype` stores. */
export function store(v, dtype) {
  switch (dtype) {
    case "float64":
      return v;
    case "float32":
      return Math.fround(v);
    case "int32":
      return v | 0;
    case "bool":
      return v !== 0 ? 1 : 0; // NaN !== 0 -> true, as numpy
  }
  throw new Error(`reference: unknown dtype ${dtype}`);
}

export function array(data, shape, dtype = "float64") {
  const d = Array.from(data, (v) => (typeof v === "boolean" ? (v ? 1 : 0) : v));
  if (d.length !== sizeOf(shape)) throw new Error(`reference: ${d.length} values for shape [${shape}]`);
  return { data: d.map((v) => store(v, dtype)), shape: [...shape], dtype };
}

/** The reference of an NDArray (or anything with data/shape/dtype). */
export const fromND = (nd) => ({ data: Array.from(nd.data), shape: [...nd.shape], dtype: nd.dtype });

export function flatten(nested) {
  const shape = [];
  for (let v = nested; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out = [];
  const walk = (v, d) => {
    if (d === shape.length) out.push(v);
    else v.forEach((x) => walk(x, d + 1));
  };
  walk(nested, 0);
  return { data: out, shape };
}

export function nest(data, shape) {
  const st = stridesOf(shape);
  const build = (d, off) => (d === shape.length ? data[off] : Array.from({ length: shape[d] }, (_, i) => build(d + 1, off + i * st[d])));
  return build(0, 0);
}

/** The multi-index of flat index i in shape. */
export function unravel(i, shape) {
  const idx = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx, shape) {
  let off = 0;
  for (let d = 0; d < shape.length; d++) off = off * shape[d] + idx[d];
  return off;
}

// ---------------------------------------------------------------------------------------------- dtypes

const RANK = { bool: 0, int32: 1, float32: 2, float64: 3 };
export const isFloat = (d) => d === "float64" || d === "float32";

/** numpy result_type of two array dtypes. */
export function promote(a, b) {
  if (a === b) return a;
  if ((a === "int32" && b === "float32") || (a === "float32" && b === "int32")) return "float64";
  return RANK[a] >= RANK[b] ? a : b;
}

/** numpy 2 weak scalars: a JS number takes the dtype of the arrays it meets. */
export function operandType(operands) {
  const arrays = operands.filter((o) => typeof o === "object").map((o) => o.dtype);
  // numbers alone (where(c, 1, 2)): integers are int32 (numpy: int64) unless one is outside int32
  if (!arrays.length) return operands.every((o) => Number.isInteger(o) && Math.abs(o + 0.5) <= 2 ** 31) ? "int32" : "float64";
  let d = arrays.reduce(promote);
  for (const o of operands) {
    if (typeof o !== "number") continue;
    if (isFloat(d)) continue;
    if (!Number.isInteger(o)) d = "float64";
    else if (d === "bool") d = "int32";
  }
  return d;
}

// ---------------------------------------------------------------------------------------------- broadcasting

export function broadcastShapes(...shapes) {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = nd - s.length + i;
      if (s[i] === out[d] || s[i] === 1) continue;
      if (out[d] === 1) out[d] = s[i];
      else throw new Error(`reference: shapes do not broadcast: ${JSON.stringify(shapes)}`);
    }
  }
  return out;
}

/** Value of operand x (array or number) at multi-index idx of the broadcast shape. */
function at(x, idx) {
  if (typeof x === "number") return x;
  const off = idx.length - x.shape.length;
  let flat = 0;
  for (let d = 0; d < x.shape.length; d++) flat = flat * x.shape[d] + (x.shape[d] === 1 ? 0 : idx[off + d]);
  return x.data[flat];
}

/** Maps f over the broadcast of the operands; f receives the values. */
function broadcastMap(operands, f) {
  const shape = broadcastShapes(...operands.filter((o) => typeof o === "object").map((o) => o.shape));
  const n = sizeOf(shape);
  const data = new Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    data[i] = f(...operands.map((o) => at(o, idx)));
  }
  return { data, shape };
}

// ---------------------------------------------------------------------------------------------- elementwise

export const COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"];
export const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", ...COMPARISONS];
export const UNARY = ["neg", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh", "floor", "ceil", "not", "isnan"];

/** a ** b for int32 a, b >= 0, wrapping at every product as numpy's integer power does. */
function ipow(a, b) {
  let r = 1;
  let base = a | 0;
  let e = b;
  while (e > 0) {
    if (e & 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return r;
}

/** C's (and numpy's) pow: 1 ** y = 1 for every y, (-1) ** ±Inf = 1, where Math.pow gives NaN. */
const cpow = (a, b) => (a === 1 || (a === -1 && Math.abs(b) === Infinity) ? 1 : Math.pow(a, b));

/** numpy maximum/minimum: NaN propagates. */
const fmax = (a, b) => (a !== a || b !== b ? NaN : a >= b ? a : b);
const fmin = (a, b) => (a !== a || b !== b ? NaN : a <= b ? a : b);

function binaryValue(op, t, a, b) {
  switch (op) {
    case "eq": return a === b ? 1 : 0;
    case "ne": return a !== b ? 1 : 0;
    case "lt": return a < b ? 1 : 0;
    case "le": return a <= b ? 1 : 0;
    case "gt": return a > b ? 1 : 0;
    case "ge": return a >= b ? 1 : 0;
    case "div": return t === "float32" ? Math.fround(a / b) : a / b;
    case "maximum": return fmax(a, b);
    case "minimum": return fmin(a, b);
  }
  if (t === "float64") {
    if (op === "add") return a + b;
    if (op === "sub") return a - b;
    if (op === "mul") return a * b;
    if (op === "pow") return cpow(a, b);
  }
  if (t === "float32") {
    if (op === "add") return Math.fround(a + b);
    if (op === "sub") return Math.fround(a - b);
    if (op === "mul") return Math.fround(a * b);
    if (op === "pow") return Math.fround(cpow(a, b));
  }
  if (t === "int32") {
    if (op === "add") return (a + b) | 0;
    if (op === "sub") return (a - b) | 0;
    if (op === "mul") return Math.imul(a, b);
    if (op === "pow") {
      if (b < 0) throw new Error("reference: int32 to a negative power");
      return ipow(a, b);
    }
  }
  if (t === "bool") {
    if (op === "add") return a | b; // logical or, as numpy
    if (op === "mul") return a & b; // logical and
    if (op === "pow") return ipow(a, b); // numpy: int8; here int32
    if (op === "sub") throw new Error("reference: bool sub");
  }
  throw new Error(`reference: no ${op} for ${t}`);
}

/** The dtype of binary op on the given operands (arrays or numbers). */
export function binaryDType(op, a, b) {
  const t = operandType([a, b]);
  if (COMPARISONS.includes(op)) return "bool";
  if (op === "div") return isFloat(t) ? t : "float64";
  if (op === "pow" && t === "bool") return "int32";
  return t;
}

export function binary(op, a, b) {
  const t = operandType([a, b]);
  const out = binaryDType(op, a, b);
  // operands are converted to the common type first (a weak float scalar next to float32 is rounded)
  const conv = (v) => (t === "float32" ? Math.fround(v) : v);
  const { data, shape } = broadcastMap([a, b], (x, y) => store(binaryValue(op, t, conv(x), conv(y)), out));
  return { data, shape, dtype: out };
}

export function unaryDType(op, d) {
  switch (op) {
    case "neg":
    case "abs":
      return d;
    case "not":
    case "isnan":
      return "bool";
    case "floor":
    case "ceil":
      return isFloat(d) ? d : "float64";
    default:
      return d === "float32" || d === "bool" ? "float32" : "float64";
  }
}

const UNARY_FN = {
  neg: (v) => -v,
  abs: (v) => Math.abs(v),
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  floor: Math.floor,
  ceil: Math.ceil,
  not: (v) => (v === 0 ? 1 : 0),
  isnan: (v) => (v !== v ? 1 : 0),
};

export function unary(op, a) {
  const out = unaryDType(op, a.dtype);
  return { data: a.data.map((v) => store(UNARY_FN[op](v), out)), shape: [...a.shape], dtype: out };
}

/** astype: to int32 truncates toward zero and saturates, NaN -> 0; to bool: != 0. */
export function castValue(v, dtype) {
  if (dtype === "int32") {
    if (v !== v) return 0;
    if (v >= 2147483647) return 2147483647;
    if (v <= -2147483648) return -2147483648;
    return Math.trunc(v) | 0;
  }
  return store(v, dtype);
}

export function astype(a, dtype) {
  return { data: a.data.map((v) => castValue(v, dtype)), shape: [...a.shape], dtype };
}

export function where(c, a, b) {
  const t = operandType([a, b]);
  const conv = (v) => store(v, t);
  // NaN is true, as numpy's bool(nan)
  const { data, shape } = broadcastMap([c, a, b], (cv, x, y) => (cv !== 0 ? conv(x) : conv(y)));
  return { data, shape, dtype: t };
}

export const clip = (a, lo, hi) => binary("minimum", binary("maximum", a, lo), hi);

// ---------------------------------------------------------------------------------------------- reductions

export const REDUCTIONS = ["sum", "prod", "mean", "min", "max", "var", "std", "argmin", "argmax", "any", "all"];
export const NAN_REDUCTIONS = ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax", "nanargmin", "nanargmax"];

export function reduceDType(op, d, full) {
  if (op.startsWith("nan")) return reduceDType(op.slice(3), d, full);
  switch (op) {
    case "sum":
    case "prod":
    case "mean":
    case "var":
    case "std":
      return d === "float32" ? "float32" : "float64";
    case "min":
    case "max":
      return d;
    case "argmin":
    case "argmax":
      return full ? "float64" : "int32";
    case "any":
    case "all":
      return "bool";
  }
  throw new Error(`reference: unknown reduction ${op}`);
}

export function normalizeAxes(axis, nd) {
  if (axis === undefined || axis === null) return Array.from({ length: nd }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : axis;
  return [...new Set(list.map((a) => (a < 0 ? a + nd : a)))].sort((x, y) => x - y);
}

/** Folds one group of values (in C order of the reduced axes) into the reduction's value. */
function fold(op, vals, ddof) {
  if (op.startsWith("nan")) return nanFold(op.slice(3), vals, ddof);
  const n = vals.length;
  switch (op) {
    case "sum":
      return vals.reduce((s, v) => s + v, 0);
    case "prod":
      return vals.reduce((s, v) => s * v, 1);
    case "mean":
      return vals.reduce((s, v) => s + v, 0) / n;
    case "var":
    case "std": {
      const m = vals.reduce((s, v) => s + v, 0) / n;
      const ss = vals.reduce((s, v) => s + (v - m) * (v - m), 0);
      const r = ss / Math.max(n - ddof, 0);
      return op === "std" ? Math.sqrt(r) : r;
    }
    case "min": {
      if (!n) throw new Error("reference: empty min");
      let m = vals[0];
      for (const v of vals) {
        if (v !== v) return NaN;
        if (v < m) m = v;
      }
      return m;
    }
    case "max": {
      if (!n) throw new Error("reference: empty max");
      let m = vals[0];
      for (const v of vals) {
        if (v !== v) return NaN;
        if (v > m) m = v;
      }
      return m;
    }
    case "argmin":
    case "argmax": {
      if (!n) throw new Error("reference: empty arg reduction");
      let best = 0;
      for (let i = 0; i < n; i++) {
        const v = vals[i];
        if (v !== v) return i; // the first NaN wins
        if (op === "argmin" ? v < vals[best] : v > vals[best]) best = i;
      }
      return best;
    }
    case "any":
      return vals.some((v) => v !== 0) ? 1 : 0;
    case "all":
      return vals.every((v) => v !== 0) ? 1 : 0;
  }
  throw new Error(`reference: unknown reduction ${op}`);
}

/**
 * numpy's nan-reductions: the plain one over the values that are not NaN; all-NaN (or empty) groups give
 * sum 0, prod 1, NaN for mean/var/std/min/max (and for var/std when ddof leaves no degree of freedom),
 * and an error for argmin/argmax. Arg indices count all values, NaN included.
 */
function nanFold(op, vals, ddof) {
  const kept = vals.filter((v) => v === v);
  if (op === "argmin" || op === "argmax") {
    if (!kept.length) throw new Error("reference: all-NaN slice");
    let best = -1;
    vals.forEach((v, i) => {
      if (v === v && (best < 0 || (op === "argmin" ? v < vals[best] : v > vals[best]))) best = i;
    });
    return best;
  }
  if (op === "min" || op === "max") return kept.length ? fold(op, kept, ddof) : NaN;
  if ((op === "var" || op === "std") && kept.length - ddof <= 0) return NaN;
  return fold(op, kept, ddof);
}

/**
 * reduce(op, a, { axis, keepdims, ddof }): a reference array (also for full reductions, of shape []
 * or all-ones with keepdims). Use `scalar()` for the number a full reduction's compute() returns.
 * Values are computed in float64 (exactly for integer data) and stored in the result dtype.
 */
export function reduce(op, a, opts = {}) {
  const nd = a.shape.length;
  const axes = normalizeAxes(opts.axis, nd);
  const keep = opts.keepdims ?? false;
  const ddof = opts.ddof ?? 0;
  const full = axes.length === nd;
  const dtype = reduceDType(op, a.dtype, full);
  const outShape = [];
  const keptAxes = [];
  for (let d = 0; d < nd; d++) {
    if (!axes.includes(d)) {
      outShape.push(a.shape[d]);
      keptAxes.push(d);
    } else if (keep) outShape.push(1);
  }
  const keptShape = keptAxes.map((d) => a.shape[d]);
  const redShape = axes.map((d) => a.shape[d]);
  const nOut = sizeOf(keptShape);
  const nRed = sizeOf(redShape);
  const data = new Array(nOut);
  for (let o = 0; o < nOut; o++) {
    const ko = unravel(o, keptShape);
    const vals = new Array(nRed);
    for (let r = 0; r < nRed; r++) {
      const ro = unravel(r, redShape);
      const idx = new Array(nd);
      keptAxes.forEach((d, i) => (idx[d] = ko[i]));
      axes.forEach((d, i) => (idx[d] = ro[i]));
      vals[r] = a.data[ravel(idx, a.shape)];
    }
    data[o] = store(fold(op, vals, ddof), dtype);
  }
  return { data, shape: outShape, dtype };
}

/** What compute() of a full reduction gives: a number, or a boolean for any/all. */
export function scalar(r) {
  const v = r.data[0];
  return r.dtype === "bool" ? v !== 0 : v;
}

// ---------------------------------------------------------------------------------------------- comparison helpers

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Distance in units in the last place between two floats of the dtype (NaN==NaN: 0; one NaN: Infinity). */
export function ulps(a, b, dtype = "float64") {
  if (a !== a && b !== b) return 0;
  if (a !== a || b !== b) return Infinity;
  if (a === b) return 0;
  if (dtype === "float32") {
    const key = (x) => {
      f32[0] = x;
      const u = u32[0];
      return u & 0x80000000 ? -(u & 0x7fffffff) : u;
    };
    return Math.abs(key(a) - key(b));
  }
  const key = (x) => {
    f64[0] = x;
    const u = u64[0];
    return u & 0x8000000000000000n ? -(u & 0x7fffffffffffffffn) : u;
  };
  const d = key(a) - key(b);
  return Number(d < 0n ? -d : d);
}

/** A short description of a value, for messages. */
export const fmt = (v) => (Object.is(v, -0) ? "-0" : String(v));

// ---------------------------------------------------------------------------------------------- scans

/**
 * numpy's cumsum / cumprod along `axis` (undefined: of the flattened array): one sequential pass in
 * element order; float32 arrays in float32 arithmetic, int32 and bool accumulated as float64.
 */
export function scan(op, a, axis) {
  if (axis === undefined) return scan(op, { data: a.data, shape: [a.data.length], dtype: a.dtype }, 0);
  const nd = a.shape.length;
  const ax = axis < 0 ? axis + nd : axis;
  const dtype = a.dtype === "float32" ? "float32" : "float64";
  const st = stridesOf(a.shape);
  const data = new Array(a.data.length);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    const v = a.data[i];
    if (idx[ax] === 0) data[i] = store(v, dtype);
    else data[i] = store(op === "cumsum" ? data[i - st[ax]] + v : data[i - st[ax]] * v, dtype);
  }
  return { data, shape: [...a.shape], dtype };
}

/** numpy's diff(a, n, axis): a[i + 1] - a[i] along axis, n times (bool: !=), in a's dtype. */
export function diff(a, n = 1, axis = -1) {
  let cur = a;
  for (let k = 0; k < n; k++) {
    const nd = cur.shape.length;
    const ax = axis < 0 ? axis + nd : axis;
    const shape = cur.shape.map((s, d) => (d === ax ? Math.max(0, s - 1) : s));
    const st = stridesOf(cur.shape);
    const data = [];
    for (let i = 0; i < sizeOf(shape); i++) {
      const idx = unravel(i, shape);
      const lo = cur.data[ravel(idx, cur.shape)];
      const hi = cur.data[ravel(idx, cur.shape) + st[ax]];
      data.push(cur.dtype === "bool" ? (hi !== lo ? 1 : 0) : store(hi - lo, cur.dtype));
    }
    cur = { data, shape, dtype: cur.dtype };
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------- linear algebra

/**
 * numpy's matmul with tessera's GEMM arithmetic (kernels/abi.ts): per result element, the products added
 * one after another in increasing k from +0, in float32 for float32 results and float64 otherwise;
 * int32 results wrapped from the (exact) float64 sums, bool results as sum != 0.
 */
export function matmul(a, b) {
  const aVec = a.shape.length === 1;
  const bVec = b.shape.length === 1;
  const as = aVec ? [1, a.shape[0]] : a.shape;
  const bs = bVec ? [b.shape[0], 1] : b.shape;
  const nd = Math.max(as.length, bs.length);
  const pa = [...new Array(nd - as.length).fill(1), ...as];
  const pb = [...new Array(nd - bs.length).fill(1), ...bs];
  const [M, K] = pa.slice(-2);
  const [K2, N] = pb.slice(-2);
  if (K !== K2) throw new Error("reference: matmul shapes");
  const batch = pa.slice(0, -2).map((x, d) => (x === 1 ? pb[d] : x));
  const result = promote(a.dtype, b.dtype);
  const f32 = result === "float32";
  const r = f32 ? Math.fround : (x) => x;
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  const outShape = [...batch, M, N];
  const out = new Array(sizeOf(outShape));
  const bsz = sizeOf(batch);
  for (let e = 0; e < bsz; e++) {
    const bi = unravel(e, batch);
    let oa = 0;
    let ob = 0;
    bi.forEach((i, d) => {
      if (pa[d] !== 1) oa += i * sa[d];
      if (pb[d] !== 1) ob += i * sb[d];
    });
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc = r(acc + r(a.data[oa + i * K + k] * b.data[ob + k * N + j]));
        out[e * M * N + i * N + j] = result === "int32" ? acc | 0 : result === "bool" ? (acc !== 0 ? 1 : 0) : acc;
      }
    }
  }
  // the axes 1-d operands were promoted with are dropped
  const shape = outShape.filter((_, d) => !(aVec && d === nd - 2) && !(bVec && d === nd - 1));
  return { data: out, shape, dtype: result };
}
