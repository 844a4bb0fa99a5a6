// The build and the binary interface: assembly/abi.ts mirrors src/kernels/abi.ts; the release .wat keeps
// its SIMD paths; static data fits below KERNEL_RESERVED_BYTES; malformed programs get the same RC codes
// from both interpreters; loading and the TESSERA_KERNELS=js switch.
import { readFileSync } from "node:fs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as abi from "../../dist/kernels/abi.js";
import { KERNEL_RESERVED_BYTES, createSharedMemory, instantiateKernels, kernelModule } from "../../dist/kernels/wasm.js";
import { kernelBackend } from "../../dist/kernels/backend.js";
import { loadNativeKernels } from "../../dist/kernels/native.js";
import { DT, ProgramBuilder, flatGeom, runBoth } from "./harness.mjs";

const root = new URL("../../", import.meta.url);
const wat = readFileSync(new URL("dist/kernels/tessera.simd.wat", root), "utf8");

test("assembly/abi.ts mirrors src/kernels/abi.ts", () => {
  const src = readFileSync(new URL("assembly/abi.ts", root), "utf8");
  const consts = {};
  for (const m of src.matchAll(/export const (\w+)(?::\s*\w+)?\s*=\s*(0x[0-9a-fA-F]+|\d+);/g)) consts[m[1]] = Number(m[2]);
  let n = 0;
  for (const [k, v] of Object.entries(abi.H)) if (k !== "WORDS") (assert.is(consts[`H_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.OP)) (assert.is(consts[`OP_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.S)) (assert.is(consts[`S_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.DT)) (assert.is(consts[`DT_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.RC)) (assert.is(consts[`RC_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.HIST_P)) (assert.is(consts[`HIST_P_${k}`], v, k), n++);
  for (const [k, v] of Object.entries(abi.HF)) (assert.is(consts[`HF_${k}`], v, k), n++);
  for (const k of ["PROGRAM_MAGIC", "MAX_DIMS", "MAX_TILE", "MAX_REGS", "SCRATCH_BYTES", "RNG_BLOCK", "TILE_SUM_LANES", "SLOT_MEM", "SLOT_INDEX", "MAX_SLOTS"]) {
    assert.is(consts[k], abi[k], k);
  }
  // MAX_RANDOM_OPS is computed in assembly/abi.ts from the scratch layout
  assert.is((consts.SCRATCH_BYTES - consts.SC_RNG) / consts.RNG_REC_BYTES, abi.MAX_RANDOM_OPS);
  assert.ok(consts.SC_ROWOFF + 8 * consts.MAX_SLOTS <= consts.SC_RNG);
  // the alias table (one address per register) lies between the row offsets and the RNG records
  assert.ok(consts.SC_ROWOFF + 8 * consts.MAX_SLOTS <= consts.SC_ALIAS && consts.SC_ALIAS + 4 * consts.MAX_REGS <= consts.SC_RNG);
  assert.ok(n > 60);
});

test("assembly/abi.ts mirrors the GEMM record; the kernel's scratch layout fits GEMM_SCRATCH_BYTES", () => {
  const src = readFileSync(new URL("assembly/abi.ts", root), "utf8");
  const c = {};
  for (const m of src.matchAll(/export const (\w+)(?::\s*\w+)?\s*=\s*(0x[0-9a-fA-F]+|\d+);/g)) c[m[1]] = Number(m[2]);
  assert.is(Object.keys(abi.G).length, abi.GEMM_WORDS);
  for (const [k, v] of Object.entries(abi.G)) assert.is(c[`G_${k}`], v, k);
  assert.equal(Object.values(abi.G).sort((a, b) => a - b), [...Array(abi.GEMM_WORDS).keys()]);
  for (const k of ["GEMM_MAGIC", "GEMM_WORDS", "GEMM_SCRATCH_BYTES"]) assert.is(c[k], abi[k], k);
  // the packed A block, the packed B panel and one MR x NR edge tile (f64: 8-byte elements), 16-aligned
  const { GEMM_MR: MR, GEMM_NV: NV, GEMM_KC: KC, GEMM_MC: MC, GEMM_NC: NC, GEMM_SC_A, GEMM_SC_B, GEMM_SC_TILE } = c;
  assert.ok(MC % MR === 0 && NC % 8 === 0 && NV === 2, "blocks are whole tiles");
  assert.ok(GEMM_SC_A === 0 && GEMM_SC_B >= MC * KC * 8 && GEMM_SC_TILE >= GEMM_SC_B + KC * NC * 8, "A block, then B panel, then tile");
  assert.ok(c.GEMM_SCRATCH_BYTES >= GEMM_SC_TILE + MR * NV * 16);
  for (const off of [GEMM_SC_B, GEMM_SC_TILE, c.GEMM_SCRATCH_BYTES]) assert.is(off % 16, 0);
});

test("opArity knows exactly the defined opcodes", () => {
  const defined = new Set(Object.values(abi.OP));
  for (let op = 0; op < 128; op++) {
    if (op === abi.OP.END) continue;
    assert.is(abi.opArity(op) >= 0, defined.has(op), `opcode ${op}`);
  }
});

test("release .wat keeps the SIMD paths", () => {
  for (const ins of ["f64x2.add", "f64x2.mul", "f64x2.min", "f64x2.max", "i64x2.add", "i64x2.shl", "i64x2.shr_u", "v128.xor", "v128.load", "v128.store", "f64x2.promote_low_f32x4", "f32x4.demote_f64x2_zero", "i32x4.trunc_sat_f64x2_s_zero", "v128.bitselect"]) {
    assert.ok(wat.includes(ins), `missing ${ins}`);
  }
  assert.ok((wat.match(/f64x2\./g) ?? []).length > 100);
  assert.match(wat, /\(import "env" "memory" \(memory \$0 1 65536 shared\)\)/);
});

test("the GEMM microkernel: two roundings in the plain build, relaxed_madd only in the FMA build", () => {
  const fmaWat = readFileSync(new URL("dist/kernels/tessera.fma.wat", root), "utf8");
  const micro = (w, t) => w.match(new RegExp(`\\(func \\$assembly/gemm/micro<${t}>[\\s\\S]*?\\n \\)`))?.[0] ?? "";
  for (const [t, v] of [["f64", "f64x2"], ["f32", "f32x4"]]) {
    assert.is((micro(wat, t).match(new RegExp(`${v}\\.mul`, "g")) ?? []).length, 12, `${t} plain: 12 products per k`);
    assert.is((micro(wat, t).match(new RegExp(`${v}\\.add`, "g")) ?? []).length, 12, `${t} plain: 12 sums per k`);
    assert.is((micro(fmaWat, t).match(new RegExp(`${v}\\.relaxed_madd`, "g")) ?? []).length, 12, `${t} fma: 12 fused steps per k`);
  }
  assert.not.match(wat, /relaxed/);
  assert.is(fmaWat.replace(/relaxed_madd/g, "").includes("relaxed"), false, "no other relaxed instruction");
});

test("static data lies below KERNEL_RESERVED_BYTES", () => {
  let end = 0;
  for (const m of wat.matchAll(/\(data \$\w+ \(i32\.const (\d+)\) "((?:[^"\\]|\\.)*)"\)/g)) {
    const bytes = m[2].replace(/\\[0-9a-fA-F]{2}/g, "x").replace(/\\./g, "x").length;
    end = Math.max(end, Number(m[1]) + bytes);
  }
  assert.ok(end > 0 && end <= KERNEL_RESERVED_BYTES, `data ends at ${end}`);
});

test("malformed programs: same RC from both interpreters", () => {
  const good = () => {
    const b = new ProgramBuilder();
    const x = b.memSlot(DT.F64), y = b.memSlot(DT.F64), ix = b.indexSlot();
    const r = b.reg();
    b.emit(abi.OP.LOAD, r, x);
    b.emit(abi.OP.STORE, r, y);
    return { b, x, y, ix, r };
  };
  const arrays = { x: { dtype: DT.F64, length: 8, init: [1, 2, 3, 4, 5, 6, 7, 8] }, y: { dtype: DT.F64, length: 8 } };
  const geom = (a) => flatGeom(8, [{ base: a.x }, { base: a.y }, { base: 0 }]);
  const cases = [];
  cases.push(["ok", good().b.build(), abi.RC.OK]);
  {
    const t = good().b.build();
    t.code = Int32Array.from([45, 0, 0, 0]); // between the unary and the binary opcodes
    cases.push(["unknown opcode 45", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.code = Int32Array.from([abi.OP.LOAD, 0, 0]); // no END
    cases.push(["missing END", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.code = Int32Array.from([abi.OP.LOAD, 5, 0, 0]);
    cases.push(["register out of range", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.code = Int32Array.from([abi.OP.LOAD, 0, 2, 0]);
    cases.push(["LOAD from an index slot", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.code = Int32Array.from([abi.OP.ADD, 0, 0, 9, 2, 0]);
    cases.push(["constant out of range", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.code = Int32Array.from([abi.OP.RANDOM, 0, 2, 0, -1, 0]);
    cases.push(["seed constant -1", t, abi.RC.BAD_OPCODE]);
  }
  {
    const t = good().b.build();
    t.nregs = 65;
    cases.push(["too many registers", t, abi.RC.BAD_HEADER]);
  }
  {
    const t = good().b.build();
    t.slotDtypes = [7, 0, 0];
    cases.push(["bad dtype", t, abi.RC.BAD_HEADER]);
  }
  for (const [name, tpl, want] of cases) {
    const res = runBoth(tpl, arrays, geom, 4);
    assert.equal(res.rc, [want, want], name);
  }
  for (const tile of [0, 6, 8192]) assert.equal(runBoth(good().b.build(), arrays, geom, tile).rc, [abi.RC.BAD_HEADER, abi.RC.BAD_HEADER], `tile ${tile}`);
});

test("kernelModule is cached; instantiateKernels honours TESSERA_KERNELS=native|wasm|js (default native when built)", () => {
  assert.is(kernelModule(), kernelModule());
  const mem = createSharedMemory(2);
  assert.ok(mem.buffer instanceof SharedArrayBuffer);
  const addon = loadNativeKernels();
  assert.is(instantiateKernels(mem).name, addon ? `native-${addon.levels()[0]}` : "wasm-simd");
  assert.is(kernelBackend({}), addon ? "native" : "wasm");
  assert.is(kernelBackend({ TESSERA_KERNELS: "wasm" }), "wasm");
  assert.throws(() => kernelBackend({ TESSERA_KERNELS: "wasm2" }), /TESSERA_KERNELS "wasm2" must be "native", "wasm" or "js"/);
  if (!addon) assert.throws(() => kernelBackend({ TESSERA_KERNELS: "native" }), /TESSERA_KERNELS=native: /);
  else assert.throws(() => kernelBackend({ TESSERA_NATIVE_LEVEL: "avx9" }), /TESSERA_NATIVE_LEVEL "avx9" must be one of/);
  for (const [v, name] of [["js", "js"], ["wasm", "wasm-simd"], ...(addon ? addon.levels().map((l) => ["native", `native-${l}`, l]) : [])]) {
    process.env.TESSERA_KERNELS = v;
    if (name.startsWith("native-")) process.env.TESSERA_NATIVE_LEVEL = name.slice(7);
    try {
      const k = instantiateKernels(mem);
      assert.is(k.name, name);
      assert.is(k.run(KERNEL_RESERVED_BYTES), abi.RC.BAD_MAGIC); // zeroed memory: no program there
      const grown = mem.buffer.byteLength;
      mem.grow(1); // every backend sees the grown memory
      assert.is(k.run(grown), abi.RC.BAD_MAGIC, `${name} after grow`);
      assert.is(typeof k.gemm, "function");
      assert.is(typeof k.zstd, v === "js" ? "undefined" : "function", `${name} zstd`);
    } finally {
      delete process.env.TESSERA_KERNELS;
      delete process.env.TESSERA_NATIVE_LEVEL;
    }
  }
  assert.is(instantiateKernels(mem).run(KERNEL_RESERVED_BYTES), abi.RC.BAD_MAGIC);
});

test.run();
