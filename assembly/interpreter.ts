// The tile interpreter: validates a program, walks the rows (C-order odometer over the row extents),
// splits each row into tiles and runs the instruction stream on every tile. All addresses come from
// the program header; nothing here keeps state outside the program's SCRATCH area.
import {
  H_CONSTS, H_EXTENTS, H_INSTR, H_MAGIC, H_NCONST, H_NDIM, H_NINSTR, H_NREGS, H_NSLOTS, H_REGS, H_ROWLEN,
  H_SCRATCH, H_SLOTS, H_TILE, MAX_DIMS, MAX_RANDOM_OPS, MAX_REGS, MAX_SLOTS, MAX_TILE, OP_BOOL, OP_CONST,
  OP_END, OP_IMUL, OP_IOTA, OP_SUB, OP_LOAD, OP_NEG, OP_RANDOM, OP_RARGMAX, OP_RARGMIN, OP_RMAX, OP_RMIN, OP_RPROD,
  OP_RSUM, OP_RVAR, OP_RNANARGMIN, OP_RNANARGMAX, OP_CUMSUM, OP_CUMPROD, OP_HIST, HIST_P_BINS, HIST_P_FLAGS, HIST_P_EDGES, HF_EDGES, DT_F32, OP_SELECT, OP_STORE, OP_ADD, OP_ISNAN, PROGRAM_MAGIC, RC_BAD_HEADER, RC_BAD_MAGIC,
  RC_BAD_OPCODE, RC_OK, RNG_REC_BYTES, SC_ALIAS, SC_CONST_A, SC_CONST_B, SC_IDX, SC_RNG, SC_ROWOFF, SLOT_INDEX,
  SLOT_MEM, S_ROW, DT_F64, opArity, dtBytes, isUnary, isBinary,
} from "./abi";
import { loadRow, loadSlot, storeSlot } from "./convert";
import { binary, fill, iota, select, splat4, unary } from "./elementwise";
import { random, randomSum, rngReset } from "./random";
import { scan } from "./scan";
import { histogram } from "./histogram";
import { accumulateVector, argReduce, tileMinMax, tileProd, tileSum, varScalar, varVector } from "./reduce";
import { indexRowPos, memAddress, rowOffset, slotBase, slotDtype, slotKind, slotLast, slotRecord } from "./slots";

/** Everything a tile needs, read once from the header. Lives in locals of run() and is passed down. */
@unmanaged class Prog {
  ndim: i32;
  slots: usize;
  code: usize;
  consts: usize;
  regs: usize;
  scratch: usize;
  tile: i32;
  fusePc: i32; // pc of a fused RANDOM -> [op k] -> RSUM run, or -1 (see findFusion)
  fuseNext: i32; // pc after the run
  fuseAcc: i32; // the RSUM slot
  fuseC: f64;
}

// @ts-ignore: decorator
@inline function word(code: usize, pc: i32): i32 {
  return load<i32>(code + (<usize>pc << 2));
}

function slotIs(kind: i32, s: i32, nslots: i32, slots: usize, ndim: i32): bool {
  return <u32>s < <u32>nslots && slotKind(slotRecord(slots, ndim, s)) == kind;
}

/** A register, or a constant index when the mode bit is set. */
function operandOk(w: i32, isConst: bool, nregs: i32, nconst: i32): bool {
  return isConst ? <u32>w < <u32>nconst : <u32>w < <u32>nregs;
}

/** Checks one instruction's operands; returns RC_OK or an error code. */
function checkInstr(op: i32, code: usize, pc: i32, nregs: i32, nslots: i32, nconst: i32, slots: usize, ndim: i32, consts: usize): i32 {
  const w1 = word(code, pc + 1), w2 = word(code, pc + 2), w3 = word(code, pc + 3);
  if (<u32>w1 >= <u32>nregs) return RC_BAD_OPCODE; // every instruction's first operand is a register
  if (op == OP_IOTA) return slotIs(SLOT_INDEX, w2, nslots, slots, ndim) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_RANDOM) {
    if (!slotIs(SLOT_INDEX, w2, nslots, slots, ndim) || <u32>w3 > 1) return RC_BAD_OPCODE;
    const k = word(code, pc + 4); // seed constants k and k + 1
    if (<u32>k >= <u32>nconst || <u32>(k + 1) >= <u32>nconst) return RC_BAD_OPCODE;
    return slotLast(slotRecord(slots, ndim, w2)) == 1 ? RC_OK : RC_BAD_HEADER;
  }
  if (op == OP_LOAD) return slotIs(SLOT_MEM, w2, nslots, slots, ndim) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_CONST) return <u32>w2 < <u32>nconst ? RC_OK : RC_BAD_OPCODE;
  if (isUnary(op)) return <u32>w2 < <u32>nregs ? RC_OK : RC_BAD_OPCODE;
  if (isBinary(op)) {
    const mode = word(code, pc + 4);
    if (<u32>mode > 3) return RC_BAD_OPCODE;
    return operandOk(w2, (mode & 1) != 0, nregs, nconst) && operandOk(w3, (mode & 2) != 0, nregs, nconst) ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_SELECT) {
    const w4 = word(code, pc + 4), mode = word(code, pc + 5);
    if (<u32>mode > 3 || <u32>w2 >= <u32>nregs) return RC_BAD_OPCODE;
    return operandOk(w3, (mode & 1) != 0, nregs, nconst) && operandOk(w4, (mode & 2) != 0, nregs, nconst) ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_STORE || (op >= OP_RSUM && op <= OP_RMAX)) return slotIs(SLOT_MEM, w2, nslots, slots, ndim) ? RC_OK : RC_BAD_OPCODE;
  if (op == OP_CUMSUM || op == OP_CUMPROD) {
    if (<u32>w2 >= <u32>nregs || !slotIs(SLOT_MEM, w3, nslots, slots, ndim)) return RC_BAD_OPCODE;
    const dt = slotDtype(slotRecord(slots, ndim, w3));
    return dt == DT_F64 || dt == DT_F32 ? RC_OK : RC_BAD_OPCODE;
  }
  if (op == OP_HIST) return checkHist(code, pc, nregs, nslots, nconst, slots, ndim, consts);
  if (op == OP_RARGMIN || op == OP_RARGMAX || op == OP_RNANARGMIN || op == OP_RNANARGMAX) {
    return slotIs(SLOT_MEM, w2, nslots, slots, ndim) && slotIs(SLOT_MEM, w2 + 1, nslots, slots, ndim) &&
      slotIs(SLOT_INDEX, w3, nslots, slots, ndim) ? RC_OK : RC_BAD_OPCODE;
  }
  /* OP_RVAR */
  return slotIs(SLOT_MEM, w2, nslots, slots, ndim) && slotIs(SLOT_MEM, w2 + 1, nslots, slots, ndim) &&
    slotIs(SLOT_MEM, w2 + 2, nslots, slots, ndim) ? RC_OK : RC_BAD_OPCODE;
}

/**
 * HIST a w s k: w a register or -1, s an F64 MEM slot, and the parameter block within the constants: an
 * integral bin count n >= 1 (and n + 1 edges with HF_EDGES).
 */
function checkHist(code: usize, pc: i32, nregs: i32, nslots: i32, nconst: i32, slots: usize, ndim: i32, consts: usize): i32 {
  const w = word(code, pc + 2), s = word(code, pc + 3), k = word(code, pc + 4);
  if (w != -1 && <u32>w >= <u32>nregs) return RC_BAD_OPCODE;
  if (!slotIs(SLOT_MEM, s, nslots, slots, ndim) || slotDtype(slotRecord(slots, ndim, s)) != DT_F64) return RC_BAD_OPCODE;
  if (k < 0 || <i64>k + HIST_P_EDGES > <i64>nconst) return RC_BAD_OPCODE;
  const p = consts + (<usize>k << 3);
  const n = load<f64>(p, HIST_P_BINS * 8);
  const flags = load<f64>(p, HIST_P_FLAGS * 8);
  if (!(n >= 1 && n <= 2147483647.0) || n != Math.floor(n) || !(flags >= 0 && flags < 32) || flags != Math.floor(flags)) return RC_BAD_OPCODE;
  if ((<i32>flags & HF_EDGES) != 0 && <i64>k + HIST_P_EDGES + <i64>n + 1 > <i64>nconst) return RC_BAD_OPCODE;
  return RC_OK;
}

/** Does instruction pc read or write register r? */
function touches(code: usize, pc: i32, r: i32): bool {
  const op = word(code, pc);
  if (word(code, pc + 1) == r) return true;
  if (isUnary(op)) return word(code, pc + 2) == r;
  if (isBinary(op)) {
    const mode = word(code, pc + 4);
    return ((mode & 1) == 0 && word(code, pc + 2) == r) || ((mode & 2) == 0 && word(code, pc + 3) == r);
  }
  if (op == OP_CUMSUM || op == OP_CUMPROD || op == OP_HIST) return word(code, pc + 2) == r;
  if (op == OP_SELECT) {
    const mode = word(code, pc + 5);
    return word(code, pc + 2) == r || ((mode & 1) == 0 && word(code, pc + 3) == r) || ((mode & 2) == 0 && word(code, pc + 4) == r);
  }
  return false;
}

/** s + t is exact (and finite) in f64 (TwoSum error term zero). */
function exactSum(a: f64, b: f64): bool {
  const s = a + b;
  if (!isFinite(s)) return false;
  const bp = s - a;
  const ap = s - bp;
  return (a - ap) + (b - bp) == 0;
}

/**
 * Finds the first run `RANDOM r s 0 k; [ADD r r k' 2 | ADD r k' r 1 | SUB r r k' 2]; RSUM r acc` with acc in
 * scalar mode, the constant's sum with -1 (ADD) or +1 (SUB) exact, and r touched by no other instruction:
 * r's values are then never read again, and randomSum computes the run in one pass, with exactly the
 * instructions' arithmetic, without writing r.
 */
function findFusion(p: Prog, slots: usize, ndim: i32): void {
  const code = p.code;
  p.fusePc = -1;
  let pc = 0;
  while (word(code, pc) != OP_END) {
    const start = pc;
    pc += 1 + opArity(word(code, pc));
    if (word(code, start) != OP_RANDOM || word(code, start + 3) != 0) continue;
    const r = word(code, start + 1);
    let at = pc;
    let c = -1.0; // RANDOM -> RSUM: x - 1
    const op = word(code, at);
    if (op == OP_ADD || op == OP_SUB) {
      const m = word(code, at + 4);
      if (word(code, at + 1) != r || (m != 1 && m != 2) || (op == OP_SUB && m != 2)) continue;
      if (word(code, at + (m == 2 ? 2 : 3)) != r) continue;
      const k = load<f64>(p.consts + (<usize>word(code, at + (m == 2 ? 3 : 2)) << 3));
      if (op == OP_ADD) { // (x - 1) + k == x + (k - 1)
        if (!exactSum(k, -1.0)) continue;
        c = k - 1.0;
      } else { // (x - 1) - k == x + -(1 + k)
        if (!exactSum(k, 1.0)) continue;
        c = -(1.0 + k);
      }
      at += 5;
    }
    if (word(code, at) != OP_RSUM || word(code, at + 1) != r) continue;
    const acc = word(code, at + 2);
    if (slotLast(slotRecord(slots, ndim, acc)) != 0) continue;
    const next = at + 3;
    let q = 0;
    let clean = true;
    while (word(code, q) != OP_END) {
      if ((q < start || q >= next) && touches(code, q, r)) { clean = false; break; }
      q += 1 + opArity(word(code, q));
    }
    if (!clean) continue;
    p.fusePc = start;
    p.fuseNext = next;
    p.fuseAcc = acc;
    p.fuseC = c;
    return;
  }
}

/** Runs the program at address prog. Returns an RC code. */
export function runProgram(prog: usize): i32 {
  if (load<u32>(prog, H_MAGIC * 4) != PROGRAM_MAGIC) return RC_BAD_MAGIC;
  const ndim = load<i32>(prog, H_NDIM * 4);
  const rowLen = load<i32>(prog, H_ROWLEN * 4);
  const nslots = load<i32>(prog, H_NSLOTS * 4);
  const ninstr = load<i32>(prog, H_NINSTR * 4);
  const nconst = load<i32>(prog, H_NCONST * 4);
  const nregs = load<i32>(prog, H_NREGS * 4);
  const tile = load<i32>(prog, H_TILE * 4);
  if (<u32>ndim > <u32>MAX_DIMS || rowLen < 0 || <u32>nslots > <u32>MAX_SLOTS || ninstr < 1 || nconst < 0) return RC_BAD_HEADER;
  if (<u32>nregs > <u32>MAX_REGS || tile < 4 || tile > MAX_TILE || (tile & 3) != 0) return RC_BAD_HEADER;
  const extents = prog + <usize>load<u32>(prog, H_EXTENTS * 4);
  const slots = prog + <usize>load<u32>(prog, H_SLOTS * 4);
  const code = prog + <usize>load<u32>(prog, H_INSTR * 4);
  const consts = prog + <usize>load<u32>(prog, H_CONSTS * 4);
  const regs = <usize>load<u32>(prog, H_REGS * 4);
  const scratch = <usize>load<u32>(prog, H_SCRATCH * 4);

  let empty = rowLen == 0;
  for (let d = 0; d < ndim; d++) {
    const e = load<i32>(extents + (<usize>d << 2));
    if (e < 0) return RC_BAD_HEADER;
    if (e == 0) empty = true;
  }
  for (let s = 0; s < nslots; s++) {
    const rec = slotRecord(slots, ndim, s);
    const kind = slotKind(rec);
    if (kind != SLOT_MEM && kind != SLOT_INDEX) return RC_BAD_HEADER;
    if (kind == SLOT_MEM && <u32>slotDtype(rec) > 3) return RC_BAD_HEADER;
  }
  // validate the instruction stream; count RANDOM instructions (each gets an RNG record)
  let pc = 0;
  let nrandom = 0;
  while (true) {
    if (pc >= ninstr) return RC_BAD_OPCODE; // no END
    const op = word(code, pc);
    if (op == OP_END) break;
    const arity = opArity(op);
    if (arity < 0 || pc + arity >= ninstr) return RC_BAD_OPCODE;
    const rc = checkInstr(op, code, pc, nregs, nslots, nconst, slots, ndim, consts);
    if (rc != RC_OK) return rc;
    if (op == OP_RANDOM) nrandom++;
    pc += 1 + arity;
  }
  if (nrandom > MAX_RANDOM_OPS) return RC_BAD_HEADER;
  if (empty) return RC_OK;
  for (let k = 0; k < nrandom; k++) rngReset(scratch + SC_RNG + <usize>k * RNG_REC_BYTES);

  const p = changetype<Prog>(scratch + SC_CONST_B + 32); // 56 bytes in the free scratch gap before SC_ROWOFF
  p.ndim = ndim;
  p.slots = slots;
  p.code = code;
  p.consts = consts;
  p.regs = regs;
  p.scratch = scratch;
  p.tile = tile;
  findFusion(p, slots, ndim);
  // alias table: every register is read from its own storage until a LOAD aliases it (runTile)
  for (let r = 0; r < MAX_REGS; r++) store<usize>(scratch + SC_ALIAS + (<usize>r << alignof<usize>()), reg(p, r));

  const idx = scratch + SC_IDX;
  for (let d = 0; d < ndim; d++) store<i32>(idx + (<usize>d << 2), 0);
  while (true) {
    // row offsets of every slot: sum_d(i_d * row_d), in increasing d
    for (let s = 0; s < nslots; s++) {
      const rec = slotRecord(slots, ndim, s);
      let off = 0.0;
      for (let d = 0; d < ndim; d++) off += <f64>load<i32>(idx + (<usize>d << 2)) * load<f64>(rec + (<usize>(S_ROW + d) << 3));
      store<f64>(scratch + SC_ROWOFF + (<usize>s << 3), off);
    }
    for (let c0 = 0; c0 < rowLen; c0 += tile) {
      runTile(p, c0, min(tile, rowLen - c0));
    }
    // advance the odometer
    let d = ndim - 1;
    for (; d >= 0; d--) {
      const at = idx + (<usize>d << 2);
      const i = load<i32>(at) + 1;
      if (i < load<i32>(extents + (<usize>d << 2))) { store<i32>(at, i); break; }
      store<i32>(at, 0);
    }
    if (d < 0) break;
  }
  return RC_OK;
}

// @ts-ignore: decorator
@inline function reg(p: Prog, r: i32): usize {
  return p.regs + <usize>r * <usize>p.tile * 8;
}

// @ts-ignore: decorator
@inline function constant(p: Prog, k: i32): f64 {
  return load<f64>(p.consts + (<usize>k << 3));
}

// ---- Register aliasing. `LOAD r s` of a contiguous (last == 1) f64 slot copies nothing: the alias table
// (SCRATCH + SC_ALIAS, one address per register) then points r at the tile's memory, and every instruction
// reads its register operands through the table. An instruction that writes r writes r's own storage and
// points the table back at it. The `aliased` bit mask (a local of runTile) lists the registers pointing at
// memory; all of them are pointed back before runTile returns, so every tile starts without aliases.
// Two rules keep results identical to copying:
//  - memory written by this tile (STORE, accumulators) that overlaps an alias is first copied into that
//    register's storage (`unalias`), so r keeps the values it had at its LOAD;
//  - aliased memory is never read past len: the elementwise loops read whole groups of 4, so when len is
//    not a multiple of 4 they first copy every alias into register storage (`ownAll`; the row's last tile only).

// @ts-ignore: decorator
@inline function at(tab: usize, r: i32): usize {
  return load<usize>(tab + (<usize>r << alignof<usize>()));
}

/** r's values are in its storage again (after an instruction wrote it, or a copy). */
// @ts-ignore: decorator
@inline function own(p: Prog, tab: usize, aliased: u64, r: i32): u64 {
  store<usize>(tab + (<usize>r << alignof<usize>()), reg(p, r));
  return aliased & ~(<u64>1 << <u64>r);
}

/** Copies every aliased register whose memory overlaps the bytes [w, w + bytes) into its storage. */
function unalias(p: Prog, tab: usize, aliased: u64, w: usize, bytes: usize, len: i32): u64 {
  let m = aliased;
  while (m != 0) {
    const r = <i32>ctz(m);
    m &= m - 1;
    const a = at(tab, r);
    if (w < a + (<usize>len << 3) && a < w + bytes) {
      loadRow(reg(p, r), a, DT_F64, len);
      aliased = own(p, tab, aliased, r);
    }
  }
  return aliased;
}

/** Copies every aliased register into its storage. */
function ownAll(p: Prog, tab: usize, aliased: u64, len: i32): u64 {
  while (aliased != 0) {
    const r = <i32>ctz(aliased);
    loadRow(reg(p, r), at(tab, r), DT_F64, len);
    aliased = own(p, tab, aliased, r);
  }
  return 0;
}

/** Runs every instruction on the tile [c0, c0 + len) of the current row. */
function runTile(p: Prog, c0: i32, len: i32): void {
  const code = p.code;
  const scratch = p.scratch;
  const tab = scratch + SC_ALIAS;
  let aliased: u64 = 0;
  let pc = 0;
  let nrandom = 0;
  while (true) {
    const op = word(code, pc);
    if (op == OP_END) break;
    if (pc == p.fusePc) {
      const rs = word(code, pc + 2), k = word(code, pc + 4);
      const seed = (<u64><u32><i64>constant(p, k)) | ((<u64><u32><i64>constant(p, k + 1)) << 32);
      const f0 = <u64>(indexRowPos(slotRecord(p.slots, p.ndim, rs), scratch, rs) + <f64>c0);
      const sum = randomSum(f0, len, seed, scratch + SC_RNG + <usize>nrandom * RNG_REC_BYTES, p.fuseC);
      nrandom++;
      const acc = memAddress(slotRecord(p.slots, p.ndim, p.fuseAcc), scratch, p.fuseAcc, c0);
      if (aliased != 0) aliased = unalias(p, tab, aliased, acc, 8, len);
      store<f64>(acc, load<f64>(acc) + sum);
      pc = p.fuseNext;
      continue;
    }
    const r = word(code, pc + 1);
    const w2 = word(code, pc + 2);
    const dst = reg(p, r);
    if (isBinary(op)) {
      const w3 = word(code, pc + 3), mode = word(code, pc + 4);
      if ((len & 3) != 0 && aliased != 0) aliased = ownAll(p, tab, aliased, len);
      let pa = at(tab, w2 & 63), sa: usize = 32, pb = at(tab, w3 & 63), sb: usize = 32;
      if (mode & 1) { pa = scratch + SC_CONST_A; sa = 0; splat4(pa, constant(p, w2)); }
      if (mode & 2) { pb = scratch + SC_CONST_B; sb = 0; splat4(pb, constant(p, w3)); }
      binary(op, dst, pa, sa, pb, sb, len);
      aliased = own(p, tab, aliased, r);
      pc += 5;
      continue;
    }
    if (isUnary(op)) {
      if ((len & 3) != 0 && aliased != 0) aliased = ownAll(p, tab, aliased, len);
      unary(op, dst, at(tab, w2), len);
      aliased = own(p, tab, aliased, r);
      pc += 3;
      continue;
    }
    if (op == OP_CUMSUM || op == OP_CUMPROD) {
      const s = word(code, pc + 3);
      const srec = slotRecord(p.slots, p.ndim, s);
      const acc = memAddress(srec, scratch, s, c0);
      const dt = slotDtype(srec);
      const vector = slotLast(srec) != 0;
      if (aliased != 0) aliased = unalias(p, tab, aliased, acc, vector ? <usize>len * dtBytes(dt) : dtBytes(dt), len);
      scan(op == OP_CUMPROD, dst, at(tab, w2), acc, dt, vector, len);
      aliased = own(p, tab, aliased, r);
      pc += 4;
      continue;
    }
    if (op == OP_HIST) {
      const s = word(code, pc + 3);
      const k = word(code, pc + 4);
      const pk = p.consts + (<usize>k << 3);
      const acc = memAddress(slotRecord(p.slots, p.ndim, s), scratch, s, c0);
      if (aliased != 0) aliased = unalias(p, tab, aliased, acc, <usize><i32>load<f64>(pk, HIST_P_BINS * 8) << 3, len);
      histogram(at(tab, r), w2 < 0 ? 0 : at(tab, w2), acc, pk, len);
      pc += 5;
      continue;
    }
    const srec = slotRecord(p.slots, p.ndim, w2);
    switch (op) {
      case OP_IOTA: {
        iota(dst, indexRowPos(srec, scratch, w2), slotLast(srec), c0, len);
        aliased = own(p, tab, aliased, r);
        pc += 3;
        break;
      }
      case OP_RANDOM: {
        const kind = word(code, pc + 3), k = word(code, pc + 4);
        const seed = (<u64><u32><i64>constant(p, k)) | ((<u64><u32><i64>constant(p, k + 1)) << 32);
        const f0 = <u64>(indexRowPos(srec, scratch, w2) + <f64>c0);
        random(dst, f0, len, seed, kind, scratch + SC_RNG + <usize>nrandom * RNG_REC_BYTES);
        aliased = own(p, tab, aliased, r);
        nrandom++;
        pc += 5;
        break;
      }
      case OP_LOAD: {
        const src = memAddress(srec, scratch, w2, c0);
        const dt = slotDtype(srec), last = slotLast(srec);
        if (dt == DT_F64 && last == 1) { // alias: r is this tile's memory
          store<usize>(tab + (<usize>r << alignof<usize>()), src);
          aliased |= <u64>1 << <u64>r;
        } else {
          loadSlot(dst, src, dt, last, len);
          aliased = own(p, tab, aliased, r);
        }
        pc += 3;
        break;
      }
      case OP_CONST: {
        fill(dst, constant(p, w2), len);
        aliased = own(p, tab, aliased, r);
        pc += 3;
        break;
      }
      case OP_SELECT: {
        const w3 = word(code, pc + 3), w4 = word(code, pc + 4), mode = word(code, pc + 5);
        if ((len & 3) != 0 && aliased != 0) aliased = ownAll(p, tab, aliased, len);
        let pa = at(tab, w3 & 63), sa: usize = 32, pb = at(tab, w4 & 63), sb: usize = 32;
        if (mode & 1) { pa = scratch + SC_CONST_A; sa = 0; splat4(pa, constant(p, w3)); }
        if (mode & 2) { pb = scratch + SC_CONST_B; sb = 0; splat4(pb, constant(p, w4)); }
        select(dst, at(tab, w2), pa, sa, pb, sb, len);
        aliased = own(p, tab, aliased, r);
        pc += 6;
        break;
      }
      case OP_STORE: {
        const out = memAddress(srec, scratch, w2, c0);
        const dt = slotDtype(srec), last = slotLast(srec);
        if (aliased != 0) aliased = unalias(p, tab, aliased, out, last == 0 ? dtBytes(dt) : <usize>len * dtBytes(dt), len);
        storeSlot(out, at(tab, r), dt, last, len);
        pc += 3;
        break;
      }
      case OP_RSUM:
      case OP_RPROD:
      case OP_RMIN:
      case OP_RMAX: {
        const acc = memAddress(srec, scratch, w2, c0);
        const scalar = slotLast(srec) == 0;
        if (aliased != 0) aliased = unalias(p, tab, aliased, acc, scalar ? 8 : <usize>len << 3, len);
        const a = at(tab, r);
        if (scalar) {
          const v = load<f64>(acc);
          let out: f64;
          if (op == OP_RSUM) out = v + tileSum(a, len);
          else if (op == OP_RPROD) out = v * tileProd(a, len);
          else out = tileMinMax(v, a, len, op == OP_RMAX);
          store<f64>(acc, out);
        } else {
          accumulateVector(op - OP_RSUM, acc, a, len);
        }
        pc += 3;
        break;
      }
      case OP_RARGMIN:
      case OP_RARGMAX:
      case OP_RNANARGMIN:
      case OP_RNANARGMAX: {
        const x = word(code, pc + 3);
        const xrec = slotRecord(p.slots, p.ndim, x);
        const irec = slotRecord(p.slots, p.ndim, w2 + 1);
        const pv = memAddress(srec, scratch, w2, c0), pi = memAddress(irec, scratch, w2 + 1, c0);
        if (aliased != 0) {
          const bytes: usize = slotLast(srec) == 0 ? 8 : <usize>len << 3;
          aliased = unalias(p, tab, aliased, pv, bytes, len);
          aliased = unalias(p, tab, aliased, pi, slotLast(irec) == 0 ? 8 : <usize>len << 3, len);
        }
        const isMax = op == OP_RARGMAX || op == OP_RNANARGMAX;
        const skipNaN = op == OP_RNANARGMIN || op == OP_RNANARGMAX;
        argReduce(isMax, skipNaN, slotLast(srec) != 0, pv, pi, at(tab, r), len, indexRowPos(xrec, scratch, x), slotLast(xrec), c0);
        pc += 4;
        break;
      }
      default: { // OP_RVAR
        const mrec = slotRecord(p.slots, p.ndim, w2 + 1), m2rec = slotRecord(p.slots, p.ndim, w2 + 2);
        const pn = memAddress(srec, scratch, w2, c0);
        const pm = memAddress(mrec, scratch, w2 + 1, c0);
        const pM2 = memAddress(m2rec, scratch, w2 + 2, c0);
        const scalar = slotLast(srec) == 0;
        if (aliased != 0) {
          aliased = unalias(p, tab, aliased, pn, scalar ? 8 : <usize>len << 3, len);
          aliased = unalias(p, tab, aliased, pm, slotLast(mrec) == 0 ? 8 : <usize>len << 3, len);
          aliased = unalias(p, tab, aliased, pM2, slotLast(m2rec) == 0 ? 8 : <usize>len << 3, len);
        }
        const a = at(tab, r);
        if (scalar) varScalar(pn, pm, pM2, a, len);
        else varVector(pn, pm, pM2, a, len);
        pc += 3;
        break;
      }
    }
  }
  // every tile starts without aliases
  while (aliased != 0) aliased = own(p, tab, aliased, <i32>ctz(aliased));
}
