// The decoder against hostile frames: random bytes and mutations of valid frames (bit flips, length and
// offset fields set to huge values, truncation, splices), seeded so a failure can be replayed
// (TESSERA_FUZZ_SEED=<seed>). Every frame must decode to a message whose parts lie within the frame, or throw
// ProtocolError, quickly: nothing may allocate from a length field (a 152-byte frame claiming a shape of 1e8
// elements took 22 s and 1.2 GiB before the verifier).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CollOp, DType, ReduceOp, PROTOCOL_VERSION, decode, decodeFragments, encode, encodeHead } from "../../dist/protocol/messages.js";

const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? 0x7e55e7a);
const FRAMES = 10_000;

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (n, v = 7) => new Uint8Array(n).map((_, i) => (i * 31 + v) & 255);
const coll = {
  kind: "collective", op: CollOp.Allgather, tag: 3, seq: 9, root: 0, step: 1, src: 2, reduce: ReduceOp.None, dtype: DType.Parts,
  shape: [4, 2], offset: 0, total: 64, parts: [{ rank: 0, dtype: DType.Float64, offset: 0, length: 32 }, { rank: 1, dtype: DType.Int32, offset: 32, length: 32 }],
  payload: bytes(64),
};
const p2p = { kind: "p2p", src: 1, dst: 0, tag: 7, seq: 2, dtype: DType.Float64, shape: [3], offset: 0, total: 24, payload: bytes(24) };
const VALID = [
  { kind: "hello", version: PROTOCOL_VERSION, rank: 1, size: 4, host: "127.0.0.1", port: 40000, job: "1234.0", nonce: bytes(32, 1) },
  { kind: "challenge", rank: 0, nonce: bytes(32, 2) },
  { kind: "proof", proof: bytes(32, 3), refusal: "rank 1 is connected already" },
  { kind: "addresses", size: 3, entries: [0, 1, 2].map((r) => ({ rank: r, host: `10.0.0.${r}`, port: 5000 + r })) },
  coll,
  { ...coll, dtype: DType.Float64, shape: [], parts: [], payload: bytes(8), total: 8 },
  p2p,
  { kind: "heartbeat", time: 123.5 },
  { kind: "cluster", header: JSON.stringify({ kind: "chunk", run: 1, chunk: 7 }), payload: bytes(40) },
  { kind: "abort", rank: 2, reason: "boom" },
  { kind: "goodbye", rank: 1 },
  { kind: "fingerprint", rank: 0, seq: 4, fingerprint: "ab".repeat(16) },
].map((m) => new Uint8Array(encode(m)));

/** A decoded message must not reach outside its frame, nor hold more than the frame could describe. */
function checkWithin(m, frame, tail) {
  assert.type(m.kind, "string");
  if (m.payload && !tail) {
    const inFrame = m.payload.buffer === frame.buffer && m.payload.byteOffset >= frame.byteOffset &&
      m.payload.byteOffset + m.payload.length <= frame.byteOffset + frame.length;
    assert.ok(inFrame || m.payload.length === 0, "the payload lies within the frame");
  }
  const room = frame.length + (tail ? tail.length : 0);
  if (m.payload) assert.ok(m.payload.length <= room);
  if (m.shape) assert.ok(m.shape.length <= 32 && m.shape.length * 8 <= room);
  if (m.parts) assert.ok(m.parts.length * 24 <= room);
  if (m.entries) assert.ok(m.entries.length * 4 <= room);
  for (const s of [m.host, m.job, m.reason, m.fingerprint, m.refusal]) if (s !== undefined) assert.ok(s.length <= room);
}

function mutate(rand, src) {
  const pick = (n) => Math.floor(rand() * n);
  const f = new Uint8Array(src);
  const dv = new DataView(f.buffer);
  switch (pick(7)) {
    case 0: // bit flips
      for (let k = 1 + pick(8); k > 0; k--) f[pick(f.length)] ^= 1 << pick(8);
      return f;
    case 1: { // a 32-bit field (a length, an offset, a vtable entry) set to something huge or odd
      const at = pick(f.length >> 2) << 2;
      const vals = [1e8, 0xffffffff, 0x7fffffff, 0x80000000, f.length, f.length + 1, pick(1 << 16), 0];
      dv.setUint32(at, vals[pick(vals.length)], true);
      return f;
    }
    case 2: { // a 16-bit field (vtable sizes and field offsets)
      const at = pick(f.length >> 1) << 1;
      dv.setUint16(at, [0xffff, 0, 1, 3, pick(1 << 16)][pick(5)], true);
      return f;
    }
    case 3: // truncated
      return f.subarray(0, pick(f.length));
    case 4: { // extended with noise
      const g = new Uint8Array(f.length + 1 + pick(64));
      g.set(f);
      for (let i = f.length; i < g.length; i++) g[i] = pick(256);
      return g;
    }
    case 5: { // the head of one frame, the rest of another
      const o = VALID[pick(VALID.length)];
      const cut = pick(Math.min(f.length, o.length));
      const g = new Uint8Array(o.length);
      g.set(o);
      g.set(f.subarray(0, cut));
      return g;
    }
    default: { // random bytes, sometimes with a plausible root offset
      const g = new Uint8Array(8 + pick(200)).map(() => pick(256));
      if (rand() < 0.5) new DataView(g.buffer).setUint32(0, 4 * pick(g.length >> 2), true);
      return g;
    }
  }
}

test(`the decoder survives ${FRAMES} random and mutated frames (seed ${SEED})`, () => {
  const rand = prng(SEED);
  let decoded = 0;
  let refused = 0;
  let worst = 0;
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    const frame = mutate(rand, VALID[Math.floor(rand() * VALID.length)]);
    const t = performance.now();
    try {
      checkWithin(decode(frame), frame, null);
      decoded++;
    } catch (e) {
      if (e.name === "Assertion") throw new Error(`seed ${SEED}, frame ${i} (${Buffer.from(frame).toString("hex")}): ${e.message}`);
      assert.is(e.constructor.name, "ProtocolError", `seed ${SEED}, frame ${i} (${Buffer.from(frame).toString("hex")}): ${e.stack}`);
      refused++;
    }
    worst = Math.max(worst, performance.now() - t);
  }
  const ms = performance.now() - t0;
  assert.ok(decoded > 100 && refused > 1000, `decoded ${decoded}, refused ${refused}: the mutations should reach both`);
  // generous bounds (a loaded machine): a frame costs microseconds, never the seconds an allocation from a length field took
  assert.ok(worst < 200, `the slowest frame took ${worst.toFixed(1)} ms`);
  assert.ok(ms < 10_000, `${FRAMES} frames took ${ms.toFixed(0)} ms`);
});

test("mutated heads of split data messages (head + payload fragments) are decoded or refused, never read past", () => {
  const rand = prng(SEED ^ 0x5eed);
  const heads = [encodeHead(coll), encodeHead(p2p)].map((h) => new Uint8Array(h));
  for (let i = 0; i < 2000; i++) {
    const which = Math.floor(rand() * 2);
    const head = mutate(rand, heads[which]);
    const tail = bytes(which === 0 ? 64 : 24);
    try {
      checkWithin(decodeFragments([head, tail]), head, tail);
    } catch (e) {
      if (e.name === "Assertion") throw e;
      assert.is(e.constructor.name, "ProtocolError", `seed ${SEED}, head ${i}: ${e.stack}`);
    }
  }
});

/** The frame of a collective with its shape vector's length field set to `n` (found by its contents). */
function withShapeLength(n) {
  const f = new Uint8Array(encode({ ...coll, shape: [0x1234567], parts: [coll.parts[0]], payload: bytes(32), total: 32 }));
  const dv = new DataView(f.buffer);
  for (let at = 0; at + 12 <= f.length; at += 4) {
    if (dv.getUint32(at, true) === 1 && dv.getUint32(at + 4, true) === 0x1234567 && dv.getUint32(at + 8, true) === 0) {
      dv.setUint32(at, n, true);
      return f;
    }
  }
  throw new Error("no shape vector found");
}

test("regression: a ~150-byte frame claiming a shape of 1e8 elements (or parts, or table entries) is refused in microseconds", () => {
  const f = withShapeLength(1e8);
  assert.ok(f.length < 200, `${f.length} bytes`);
  const t0 = performance.now();
  assert.throws(() => decode(f), (e) => e.constructor.name === "ProtocolError" && /malformed frame/.test(e.message));
  assert.ok(performance.now() - t0 < 100, "no allocation from the length field");
  // a shape within the dimension limit that still runs past the frame
  assert.throws(() => decode(withShapeLength(30)), (e) => e.constructor.name === "ProtocolError" && /30 8-byte elements/.test(e.message));
  // the parts vector and the address table's entries, each claiming 1e8 elements: every count-of-one field
  // is set to 1e8 in turn; the one that is the vector's length must be refused as such, quickly
  for (const [m, what] of [
    [{ ...coll, parts: [coll.parts[0]] }, /100000000 24-byte elements/],
    [{ kind: "addresses", size: 1, entries: [{ rank: 0, host: "h", port: 1 }] }, /100000000 tables/],
  ]) {
    const valid = new Uint8Array(encode(m));
    let hit = false;
    for (let at = 0; at + 4 <= valid.length; at += 4) {
      const f2 = valid.slice();
      const dv = new DataView(f2.buffer);
      if (dv.getUint32(at, true) !== 1) continue;
      dv.setUint32(at, 1e8, true);
      const t = performance.now();
      try {
        decode(f2);
      } catch (e) {
        assert.is(e.constructor.name, "ProtocolError");
        hit ||= what.test(e.message);
      }
      assert.ok(performance.now() - t < 100);
    }
    assert.ok(hit, `the ${m.kind} frame's vector claiming 1e8 elements was refused as such`);
  }
});

test.run();
