// The shared-memory rings at the record level, in one process (two ranks' views of one buffer): records
// of uneven sizes wrap around a 1 KiB ring thousands of times, in order and intact; a full ring refuses a
// record and asks the reader to ring the writer once it frees room; padding records are skipped; an area
// is published for several readers and refused again until every one of them has copied it out.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ShmSegment, defaultAreaBytes, defaultRingBytes, segmentBytes } from "../../dist/transport/shm-segment.js";

const head = (i, parts = []) => ({ kind: 1, dtype: 4, op: 3, reduce: 1, seq: i, step: i % 7, root: 1, tag: i * 3, offset: 0, total: 0, parts });
const bytesOf = (i) => Uint8Array.from({ length: (i * 53) % 200 }, (_, k) => (i + k * 7) & 255);

test("records of uneven sizes wrap around a small ring many times, in order and intact", () => {
  const R = 1024;
  const buf = new ArrayBuffer(segmentBytes(2, R));
  const w = new ShmSegment(buf, 2, R, 0);
  w.init();
  const r = new ShmSegment(buf, 2, R, 1);
  assert.ok(r.valid());
  let sent = 0;
  let got = 0;
  let refused = 0;
  while (got < 5000) {
    // write until full, then read a few: the positions drift over the ring's end in every phase
    while (sent < 5000) {
      const b = bytesOf(sent);
      const parts = sent % 5 === 0 ? [{ rank: sent % 3, dtype: 1, offset: 8, length: b.length }] : [];
      if (!w.tryWrite(1, { ...head(sent, parts), total: b.length }, b, 0, b.length)) {
        refused++;
        break;
      }
      sent++;
    }
    for (let k = 0; k < 3 && got < sent; k++) {
      const rec = r.peek(0);
      assert.ok(rec, `record ${got} is there`);
      assert.is(rec.seq, got);
      assert.is(rec.step, got % 7);
      assert.is(rec.tag, got * 3);
      assert.is(rec.reduce, 1);
      assert.equal(Array.from(rec.payload), Array.from(bytesOf(got)), `record ${got}'s bytes`);
      assert.equal(rec.parts.length, got % 5 === 0 ? 1 : 0);
      r.consume(0);
      got++;
    }
  }
  assert.is(r.peek(0), null, "nothing more");
  assert.ok(refused > 100, `the ring was full ${refused} times`);
});

test("a refused writer is owed a doorbell: consume() says so once, and ring() bumps the doorbell", () => {
  const R = 1024;
  const buf = new ArrayBuffer(segmentBytes(3, R));
  const w = new ShmSegment(buf, 3, R, 2);
  w.init();
  const r = new ShmSegment(buf, 3, R, 0);
  const b = new Uint8Array(400);
  assert.ok(w.tryWrite(0, head(0), b, 0, 400));
  assert.ok(w.tryWrite(0, head(1), b, 0, 400));
  assert.not.ok(w.tryWrite(0, head(2), b, 0, 400), "no room for a third");
  assert.ok(r.peek(2));
  assert.ok(r.consume(2), "the writer waits for room");
  assert.ok(r.peek(2));
  assert.not.ok(r.consume(2), "told once");
  const before = w.bell(2);
  assert.not.ok(r.ring(2), "nobody sleeps on it");
  assert.is(w.bell(2), before + 1);
  assert.ok(w.tryWrite(0, head(2), b, 0, 400), "room again");
});

test("ring sizes: powers of two, 4 MiB up to 4 local ranks, at most 64 MiB of rings beyond (at least 64 KiB each)", () => {
  assert.is(defaultRingBytes(2), 4 << 20);
  assert.is(defaultRingBytes(4), 4 << 20);
  assert.is(defaultRingBytes(8), 1 << 20);
  assert.is(defaultRingBytes(16), 256 << 10);
  assert.is(defaultRingBytes(256), 64 << 10);
  assert.throws(() => new ShmSegment(new ArrayBuffer(segmentBytes(2, 3000)), 2, 3000, 0), /power of two/);
});

test("area sizes: 16 MiB up to 4 local ranks, at most 64 MiB of areas beyond (at least 64 KiB each)", () => {
  assert.is(defaultAreaBytes(2), 16 << 20);
  assert.is(defaultAreaBytes(4), 16 << 20);
  assert.is(defaultAreaBytes(8), 8 << 20);
  assert.is(defaultAreaBytes(64), 1 << 20);
  assert.is(defaultAreaBytes(4096), 64 << 10);
  assert.is(segmentBytes(4, 1 << 20, 16 << 20) - segmentBytes(4, 1 << 20), 64 << 20);
});

test("an area: published once for its readers, refused while any has not copied it out, and for messages past its size", () => {
  const R = 1024;
  const A = 4096;
  const buf = new ArrayBuffer(segmentBytes(3, R, A));
  const w = new ShmSegment(buf, 3, R, 1, A);
  w.init();
  const readers = [new ShmSegment(buf, 3, R, 0, A), new ShmSegment(buf, 3, R, 2, A)];
  assert.ok(readers.every((x) => x.valid()));
  const msg = (k, n) => Uint8Array.from({ length: n }, (_, i) => (k * 31 + i * 7) & 255);
  for (let k = 0; k < 20; k++) {
    const n = 1 + ((k * 997) % A);
    assert.ok(w.publishArea(msg(k, n), 2), `message ${k} published`);
    assert.not.ok(w.publishArea(msg(k + 1, 8), 2), "refused while both readers have to copy it");
    const a = new Uint8Array(n);
    readers[k % 2].readArea(1, a);
    assert.equal(Array.from(a), Array.from(msg(k, n)));
    assert.not.ok(w.publishArea(msg(k + 1, 8), 2), "refused while one reader has to copy it");
    const b = new Uint8Array(n);
    readers[(k + 1) % 2].readArea(1, b);
    assert.equal(Array.from(b), Array.from(msg(k, n)));
  }
  assert.not.ok(w.publishArea(msg(0, A + 1), 2), "larger than the area");
  assert.ok(w.publishArea(msg(0, A), 2), "exactly the area");
  // the areas lie after the rings: a full ring's records leave an area intact
  const a = new Uint8Array(A);
  for (let i = 0; w.tryWrite(0, { ...head(i), total: 100 }, msg(9, 100), 0, 100); i++);
  readers[0].readArea(1, a);
  assert.equal(Array.from(a), Array.from(msg(0, A)));
  assert.throws(() => new ShmSegment(new ArrayBuffer(segmentBytes(2, R, 12)), 2, R, 0, 12), /multiple of 8/);
  assert.throws(() => new ShmSegment(new ArrayBuffer(segmentBytes(2, R)), 2, R, 0, 8), /areas of 8/);
});

test.run();
