import { test } from "uvu";
import * as assert from "uvu/assert";
import { encode, encodeHead, decode, decodeFragments, DType, CollOp, ReduceOp, PROTOCOL_VERSION } from "../../dist/protocol/messages.js";

const roundTrip = (m) => decode(encode(m));

test("round trips of every message kind", () => {
  const hello = { kind: "hello", version: PROTOCOL_VERSION, rank: 3, size: 8, host: "10.0.0.1", port: 29500, job: "12.0", nonce: new Uint8Array(32).fill(5) };
  assert.equal(roundTrip(hello), hello);
  assert.ok(encode(hello).length <= 512, "a Hello fits the handshake frame limit");
  const challenge = { kind: "challenge", rank: 0, nonce: new Uint8Array(32).map((_, i) => i) };
  assert.equal(roundTrip(challenge), challenge);
  const proof = { kind: "proof", proof: new Uint8Array(32).fill(9), refusal: "" };
  assert.equal(roundTrip(proof), proof);
  assert.equal(roundTrip({ ...proof, refusal: "rank 2 is connected already" }), { ...proof, refusal: "rank 2 is connected already" });
  const table = { kind: "addresses", size: 2, entries: [{ rank: 0, host: "127.0.0.1", port: 1 }, { rank: 1, host: "::1", port: 65535 }] };
  assert.equal(roundTrip(table), table);
  assert.equal(roundTrip({ kind: "heartbeat", time: 12.5 }), { kind: "heartbeat", time: 12.5 });
  assert.equal(roundTrip({ kind: "abort", rank: 2, reason: "boom" }), { kind: "abort", rank: 2, reason: "boom" });
  const mismatch = { kind: "abort", rank: 1, reason: "rank 1 called barrier #3 while rank 0 called allgather #3", code: "COLLECTIVE_MISMATCH" };
  assert.equal(roundTrip(mismatch), mismatch);
  assert.equal(roundTrip({ kind: "goodbye", rank: 1 }), { kind: "goodbye", rank: 1 });
  const fp = { kind: "fingerprint", rank: 1, seq: 9, fingerprint: "deadbeef" };
  assert.equal(roundTrip(fp), fp);
});

test("cluster messages: a JSON header and raw bytes, 8-byte aligned, viewed without copying", () => {
  for (const n of [0, 3, 8, 5000]) {
    const m = { kind: "cluster", header: JSON.stringify({ kind: "assign", run: 1, layer: 2, start: 0, end: n, fetch: [[5, 2]] }), payload: new Uint8Array(n).map((_, i) => i) };
    const f = encode(m);
    const d = decode(f);
    assert.equal(d, m);
    if (n > 0) {
      assert.is(d.payload.buffer, f.buffer, "a view of the frame");
      assert.is((d.payload.byteOffset - f.byteOffset) % 8, 0, "8-byte aligned in the frame");
    }
  }
  assert.equal(decode(encode({ kind: "cluster", header: "", payload: new Uint8Array(0) })), { kind: "cluster", header: "", payload: new Uint8Array(0) });
});

test("collective and p2p payloads: raw little-endian bytes, 8-byte aligned, viewed without copying", () => {
  const data = new Float64Array([1.5, -0, NaN, Infinity, 1e-300]);
  const bytes = new Uint8Array(data.buffer);
  const m = {
    kind: "collective", op: CollOp.Allreduce, tag: 4, seq: 77, root: 0, step: 2, src: 1, reduce: ReduceOp.Sum, dtype: DType.Float64,
    shape: [5], offset: 0, total: 40, parts: [{ rank: 3, dtype: DType.Int32, offset: 8, length: 16 }], payload: bytes,
  };
  const frame = encode(m);
  const d = decode(frame);
  assert.equal({ ...d, payload: null }, { ...m, payload: null });
  assert.is(d.payload.buffer, frame.buffer); // a view into the frame
  assert.is((d.payload.byteOffset - frame.byteOffset) % 8, 0);
  const back = new Float64Array(d.payload.slice().buffer);
  assert.equal(Buffer.from(back.buffer).toString("hex"), Buffer.from(data.buffer).toString("hex"));
  const p = { kind: "p2p", src: 0, dst: 1, tag: 5, seq: 2, dtype: DType.Value, shape: [], offset: 0, total: 3, payload: new Uint8Array([1, 2, 3]) };
  const dp = roundTrip(p);
  assert.equal(Array.from(dp.payload), [1, 2, 3]);
  assert.equal({ ...dp, payload: null }, { ...p, payload: null });
  for (const n of [0, 1, 7, 8, 9, 1000]) {
    const f = encode({ ...m, shape: [], parts: [], payload: new Uint8Array(n).fill(7), total: n });
    const x = decode(f);
    assert.is(x.payload.length, n);
    assert.is((x.payload.byteOffset - f.byteOffset) % 8, 0);
  }
});

test("a head + payload in fragments is the same message, decoded without joining; other fragmentations are joined", () => {
  const coll = (n) => ({
    kind: "collective", op: CollOp.Allreduce, tag: 0, seq: 5, root: 0, step: 1, src: 2, reduce: ReduceOp.Sum, dtype: DType.Float64,
    shape: [n >> 3], offset: 0, total: n, parts: [{ rank: 1, dtype: DType.Float64, offset: 0, length: n }], payload: new Uint8Array(n).map((_, i) => i * 7),
  });
  const p2p = (n) => ({ kind: "p2p", src: 0, dst: 1, tag: 9, seq: 3, dtype: DType.Uint8, shape: [n], offset: 0, total: n, payload: new Uint8Array(n).fill(3) });
  const cluster = (n) => ({ kind: "cluster", header: JSON.stringify({ kind: "chunk", run: 3, chunk: n, part: [0, n] }), payload: new Uint8Array(n).fill(5) });
  for (const make of [coll, p2p, cluster]) {
    for (const n of [0, 4, 8, 12, 65536, 100_004]) {
      const m = make(n);
      const head = encodeHead(m);
      assert.is(head.length % 8, 0, "the payload starts 8-byte aligned");
      const joined = new Uint8Array(head.length + n);
      joined.set(head);
      joined.set(m.payload, head.length);
      assert.equal(decode(joined), m, `${m.kind} ${n}: head + payload is the whole message`);
      const d = decodeFragments([head, m.payload]);
      assert.equal(d, m);
      assert.is(d.payload, m.payload, "the payload fragment itself, not a copy");
      if (n > 0) assert.equal(decodeFragments([head, m.payload.subarray(0, 1), m.payload.subarray(1)]), m);
      // an ordinary frame cut anywhere is joined and decoded as one
      const f = encode(m);
      const cut = f.length >> 1;
      assert.equal(decodeFragments([f.subarray(0, cut), f.subarray(cut)]), m);
    }
  }
  // a head whose length field does not match the rest is not taken as a split message
  const m = coll(16);
  assert.throws(() => decodeFragments([encodeHead(m), new Uint8Array(8)]), (e) => e.constructor.name === "ProtocolError");
});

test("malformed frames are refused with a ProtocolError", () => {
  for (const bad of [new Uint8Array(0), new Uint8Array(5), new Uint8Array(64).fill(255), new TextEncoder().encode("GET / HTTP/1.1\r\n\r\nxxxx")]) {
    assert.throws(() => decode(bad), (e) => e.constructor.name === "ProtocolError");
  }
});

test("a payload length that overruns its frame is refused, never read from the bytes beside the frame", () => {
  const m = {
    kind: "collective", op: CollOp.Allreduce, tag: 1, seq: 1, root: 0, step: 0, src: 0, reduce: ReduceOp.Sum, dtype: DType.Float64,
    shape: [2], offset: 0, total: 16, parts: [], payload: new Uint8Array(16).fill(7),
  };
  const frame = encode(m);
  const at = decode(frame).payload.byteOffset - frame.byteOffset - 4; // the payload vector's length field
  assert.is(new DataView(frame.buffer, frame.byteOffset).getUint32(at, true), 16);
  // the frame as a slice of a larger socket buffer, with other bytes after it
  const slab = new Uint8Array(frame.length + 256).fill(0xee);
  slab.set(frame);
  const view = slab.subarray(0, frame.length);
  assert.equal(Array.from(decode(view).payload), new Array(16).fill(7));
  new DataView(slab.buffer).setUint32(at, 16 + 64, true);
  assert.throws(() => decode(view), (e) => e.constructor.name === "ProtocolError" && /malformed frame .*80 1-byte elements.* in \d+ bytes/.test(e.message));
  const p = { kind: "p2p", src: 0, dst: 1, tag: 5, seq: 2, dtype: DType.Value, shape: [], offset: 0, total: 3, payload: new Uint8Array([1, 2, 3]) };
  const pf = encode(p);
  const pat = decode(pf).payload.byteOffset - pf.byteOffset - 4;
  const pslab = new Uint8Array(pf.length + 64).fill(0xee);
  pslab.set(pf);
  new DataView(pslab.buffer).setUint32(pat, 1000, true);
  assert.throws(() => decode(pslab.subarray(0, pf.length)), (e) => e.constructor.name === "ProtocolError");
});

test.run();
