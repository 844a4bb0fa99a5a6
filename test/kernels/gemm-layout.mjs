// GEMM test layouts shared by gemm.test.mjs (the canonical kernel) and blas.test.mjs (the BLAS bridge):
// one record and its operands laid out in a test memory, every operand in its own region with guard
// elements either side, and the naive triple loop of the canonical arithmetic as an oracle.
import { DT, G, GEMM_MAGIC, GEMM_SCRATCH_BYTES, GEMM_WORDS } from "../../dist/kernels/abi.js";
import { KERNEL_RESERVED_BYTES } from "../../dist/kernels/wasm.js";
import { rng } from "./harness.mjs";

export const PAGES = 512; // 32 MiB per memory
export const REC = KERNEL_RESERVED_BYTES;
export const SCRATCH = REC + 4096;
export const DATA = SCRATCH + GEMM_SCRATCH_BYTES + 4096;
export const GUARD = 16; // elements of untouched margin around every operand's region

export const SIZES = [0, 1, 2, 3, 5, 6, 7, 12, 17, 63, 97, 129];
export const LAYOUTS = ["row", "col", "flip", "neg", "gap", "tcol"];

/**
 * "Every layout": each pair of A and B layouts (with C's layout the (t * cStep)-th, cycling), sizes around
 * the tile, f64 and f32 alternating, beta alternating: [case, seed] pairs for a test's own check.
 */
export function layoutCases(seed0, cStep = 1) {
  const out = [];
  let t = 0;
  for (const la of LAYOUTS) {
    for (const lb of LAYOUTS) {
      const lc = LAYOUTS[(t * cStep) % LAYOUTS.length];
      const dtype = t % 2 ? DT.F32 : DT.F64;
      const values = dtype === DT.F32 ? { all: (rand) => Math.fround((rand() - 0.5) * 8) } : undefined;
      out.push([{ dtype, m: 13 + (t % 5), n: 9 + (t % 7), k: 31 + t, beta: t % 2, pad: t % 3, layouts: { a: la, b: lb, c: lc }, values }, seed0 + t]);
      t++;
    }
  }
  return out;
}

export const TYPED = { [DT.F64]: Float64Array, [DT.F32]: Float32Array };

export function writeRecord(buf, rec, r) {
  const w = new Float64Array(buf, rec, GEMM_WORDS);
  w.fill(0);
  w[G.MAGIC] = r.magic ?? GEMM_MAGIC;
  w[G.DTYPE] = r.dtype;
  w[G.M] = r.m;
  w[G.N] = r.n;
  w[G.K] = r.k;
  [w[G.A], w[G.A_ROW], w[G.A_COL]] = [r.a, r.ars, r.acs];
  [w[G.B], w[G.B_ROW], w[G.B_COL]] = [r.b, r.brs, r.bcs];
  [w[G.C], w[G.C_ROW], w[G.C_COL]] = [r.c, r.crs, r.ccs];
  w[G.BETA] = r.beta;
  w[G.SCRATCH] = r.scratch ?? SCRATCH;
  w[G.SCRATCH_BYTES] = r.scratchBytes ?? GEMM_SCRATCH_BYTES;
}

/** Element offsets (from the base) of a rows×cols operand: its lowest and highest. */
export function span(rows, cols, rs, cs) {
  if (rows === 0 || cols === 0) return [0, 0];
  const di = (rows - 1) * rs, dk = (cols - 1) * cs;
  return [Math.min(di, 0) + Math.min(dk, 0), Math.max(di, 0) + Math.max(dk, 0)];
}

/** Strides for a layout: "row" (C-order, padded rows), "col" (F-order, i.e. a transpose), "flip" (C-order, both axes reversed), "neg" (rows reversed), "gap" (strides 2 and 3 + pad). */
export function strides(layout, rows, cols, pad) {
  switch (layout) {
    case "row": return [cols + pad, 1];
    case "col": return [1, rows + pad];
    case "flip": return [-(cols + pad), -1];
    case "neg": return [-(cols + pad), 1];
    case "gap": return [3 * cols + pad, 3];
    case "tcol": return [2, 2 * rows + pad]; // a column-major view with a step of 2
  }
  throw new Error(layout);
}

/**
 * Lays out one GEMM (A m×k, B k×n, C m×n with the given layouts) in the data area: every operand in its own
 * region with GUARD elements either side; the same bytes in both memories. Returns the record fields, the
 * regions and a function that reads an operand element back.
 */
export function layout(p, seed) {
  const T = TYPED[p.dtype], e = T.BYTES_PER_ELEMENT;
  const r = rng(seed);
  let at = DATA;
  const ops = {};
  const dims = { a: [p.m, p.k], b: [p.k, p.n], c: [p.m, p.n] };
  for (const name of ["a", "b", "c"]) {
    const [rows, cols] = dims[name];
    const [rs, cs] = p.strides?.[name] ?? strides(p.layouts?.[name] ?? "row", rows, cols, p.pad ?? 0);
    const [lo, hi] = span(rows, cols, rs, cs);
    const len = hi - lo + 1 + 2 * GUARD;
    const region = (at + 15) & ~15;
    const base = region + (GUARD - lo) * e;
    ops[name] = { rows, cols, rs, cs, region, len, base };
    at = region + len * e + 64;
  }
  if (at > PAGES * 65536) throw new Error("test case too large");
  const values = {};
  for (const name of ["a", "b", "c"]) {
    const o = ops[name];
    const v = new T(o.len);
    const gen = p.values?.[name] ?? p.values?.all ?? ((rand) => (rand() - 0.5) * 200);
    for (let i = 0; i < o.len; i++) v[i] = gen(r, i);
    if (name === "c" && p.beta === 0 && !p.values?.c) v.fill(NaN); // beta 0 must never read C
    values[name] = v;
  }
  const rec = { dtype: p.dtype, m: p.m, n: p.n, k: p.k, beta: p.beta };
  for (const name of ["a", "b", "c"]) [rec[name], rec[`${name}rs`], rec[`${name}cs`]] = [ops[name].base, ops[name].rs, ops[name].cs];
  return { rec, ops, values, T, e };
}

export function load(side, L) {
  for (const name of ["a", "b", "c"]) new L.T(side.mem.buffer, L.ops[name].region, L.ops[name].len).set(L.values[name]);
}
export const regionOf = (side, L, name) => new L.T(side.mem.buffer.slice(L.ops[name].region, L.ops[name].region + L.ops[name].len * L.e));

/** The naive triple loop of the canonical arithmetic over the initial values (an independent oracle). */
export function naive(L) {
  const { ops, values, rec } = L;
  const f32 = rec.dtype === DT.F32;
  const at = (name, i, j) => values[name][(ops[name].base - ops[name].region) / L.e + i * ops[name].rs + j * ops[name].cs];
  const out = L.T.from(values.c);
  for (let i = 0; i < rec.m; i++) {
    for (let j = 0; j < rec.n; j++) {
      let acc = rec.beta ? at("c", i, j) : 0;
      for (let kk = 0; kk < rec.k; kk++) {
        const p = at("a", i, kk) * at("b", kk, j);
        acc = f32 ? Math.fround(acc + Math.fround(p)) : acc + p;
      }
      out[(ops.c.base - ops.c.region) / L.e + i * ops.c.rs + j * ops.c.cs] = acc;
    }
  }
  return out;
}
