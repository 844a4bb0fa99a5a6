// allreduce/reduce/bcast/gather's `out` option (MPI's receive buffer) in a world of one, and the checks every world
// makes of it (multi-rank results into `out`: shm.test.mjs's "equal" scenario, on both transports).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { singleWorld } from "../../dist/comm/world.js";
import { checkGatherOut, checkOut, gatheredInto, receivedInto } from "../../dist/comm/out-buffer.js";
import { DType } from "../../dist/protocol/messages.js";

const rejects = async (p, code, re) => {
  try {
    await p;
  } catch (e) {
    assert.is(e.code, code, e.message);
    assert.match(e.message, re);
    return;
  }
  assert.unreachable("no error");
};

test("a world of one writes the result into out and returns that array", async () => {
  const x = Float64Array.of(1.5, -2, NaN);
  const out = new Float64Array(3).fill(9);
  const got = await singleWorld.allreduce(x, "sum", { out });
  assert.ok(got === out);
  assert.equal([...out], [1.5, -2, NaN]);
  const rout = new Float64Array(3);
  assert.ok((await singleWorld.reduce(x, "max", 0, { out: rout })) === rout);
  assert.equal([...rout], [1.5, -2, NaN]);
  // no out: the value itself, as before
  assert.ok((await singleWorld.allreduce(x)) === x);
});

test("an out that cannot take the result is INVALID_ARGUMENT naming both", async () => {
  const x = new Float64Array(4);
  await rejects(singleWorld.allreduce(x, "sum", { out: new Float32Array(4) }), "INVALID_ARGUMENT", /out \(Float32Array of 4\) is not of the value's type and length \(Float64Array of 4\)/);
  await rejects(singleWorld.allreduce(x, "sum", { out: new Float64Array(5) }), "INVALID_ARGUMENT", /Float64Array of 5/);
  await rejects(singleWorld.allreduce(3, "sum", { out: new Float64Array(1) }), "INVALID_ARGUMENT", /value's type and length \(number\)/);
  await rejects(singleWorld.reduce(x, "sum", 0, { out: [0, 0, 0, 0] }), "INVALID_ARGUMENT", /reduce's out \(object\) is not a Float64Array/);
  await rejects(singleWorld.allreduce(x, "sum", 7), "INVALID_ARGUMENT", /options 7 are not an object/);
});

test("a world of one: bcast, gather and allgather into out (gather's result views into it), and their checks", async () => {
  const x = Float64Array.of(1, 2, 3);
  const bout = new Float64Array(3);
  assert.ok((await singleWorld.bcast(x, 0, { out: bout })) === bout);
  assert.equal([...bout], [1, 2, 3]);
  assert.ok((await singleWorld.bcast(x, 0, { out: x })) === x, "the root may pass its value as out");
  const gout = new Float64Array(3);
  const g = await singleWorld.gather(x, 0, { out: gout });
  assert.is(g.length, 1);
  assert.ok(g[0].buffer === gout.buffer && g[0].byteOffset === 0 && g[0].length === 3, "a view of out");
  assert.equal([...gout], [1, 2, 3]);
  await rejects(singleWorld.gather(x, 0, { out: new Float64Array(4) }), "INVALID_ARGUMENT", /gather's out \(Float64Array of 4\) is not of the value's type and 1 times its length \(Float64Array of 3, 1 ranks\)/);
  await rejects(singleWorld.bcast(x, 0, { out: new Int32Array(3) }), "INVALID_ARGUMENT", /bcast's out \(Int32Array of 3\) is not of the value's type and length/);
  await rejects(singleWorld.bcast({ a: 1 }, 0, { out: new Uint8Array(1) }), "INVALID_ARGUMENT", /bcast's out/);
  await rejects(singleWorld.gather(x, 0, 5), "INVALID_ARGUMENT", /gather's options 5 are not an object/);
  const aout = new Float64Array(3);
  const ag = await singleWorld.allgather(x, { out: aout });
  assert.ok(ag[0].buffer === aout.buffer && ag[0].length === 3);
  assert.equal([...aout], [1, 2, 3]);
  await rejects(singleWorld.allgather(x, { out: new Float32Array(3) }), "INVALID_ARGUMENT", /allgather's out \(Float32Array of 3\) is not of the value's type and 1 times its length/);
});

test("gather's out may hold the root's value as its own part, not overlap it otherwise; errors name the part and the whole", async () => {
  const out = new Float64Array(6);
  const v = Float64Array.of(1, 2);
  assert.ok(checkGatherOut(out.subarray(2, 4), { out }, 1, 1, 3) === out, "the root's own part: MPI_IN_PLACE's use");
  assert.throws(() => checkGatherOut(out.subarray(1, 3), { out }, 1, 1, 3), (e) => e.code === "INVALID_ARGUMENT" && /overlaps the root's value other than as its own part \(value bytes 8\.\.24, the root's part 16\.\.32\)/.test(e.message));
  assert.is(checkGatherOut(v, { out: "ignored off the root" }, 1, 0, 3), undefined);
  const got = await singleWorld.gather(out.subarray(0, 6), 0, { out });
  assert.ok(got[0].buffer === out.buffer && got[0].length === 6, "a world of one gathers in place");
  assert.throws(() => gatheredInto({ dtype: DType.Float64, shape: [1], bytes: new Uint8Array(8) }, out, 1, 2), /gather's value of rank 1: elements 2\.\.4 of out \(Float64Array of 6\) cannot take Float64 of 8 bytes/);
});

test("receivedInto: a payload of out's type and length is copied in (or was received there); any other is INVALID_ARGUMENT naming both", () => {
  const out = new Float64Array(2);
  const src = Float64Array.of(4, 5);
  assert.ok(receivedInto({ dtype: DType.Float64, shape: [2], bytes: new Uint8Array(src.buffer) }, out, "bcast") === out);
  assert.equal([...out], [4, 5]);
  const inPlace = new Uint8Array(out.buffer);
  out[0] = 9;
  assert.ok(receivedInto({ dtype: DType.Float64, shape: [2], bytes: inPlace }, out, "bcast") === out);
  assert.is(out[0], 9, "received in place: not copied over itself");
  assert.throws(() => receivedInto({ dtype: DType.Float32, shape: [4], bytes: new Uint8Array(16) }, out, "bcast from rank 1"), (e) => e.code === "INVALID_ARGUMENT" && /bcast from rank 1: out \(Float64Array of 2\) cannot take Float32 of 16 bytes/.test(e.message));
  assert.throws(() => receivedInto({ dtype: DType.Number, shape: [], bytes: new Uint8Array(8) }, out, "bcast"), /cannot take a number/);
  assert.throws(() => receivedInto({ dtype: DType.Float64, shape: [3], bytes: new Uint8Array(24) }, out, "bcast"), /cannot take Float64 of 24 bytes/);
});

test("an out that overlaps the value is refused; adjacent views of one buffer are not", () => {
  const buf = new Float64Array(8);
  assert.throws(() => checkOut(buf.subarray(0, 4), { out: buf.subarray(3, 7) }, "allreduce"), (e) => e.code === "INVALID_ARGUMENT" && /overlaps its value \(bytes 24\.\.56 and 0\.\.32/.test(e.message));
  assert.throws(() => checkOut(buf, { out: buf }, "allreduce"), /overlaps/);
  assert.ok(checkOut(buf.subarray(0, 4), { out: buf.subarray(4, 8) }, "allreduce") !== undefined);
  assert.is(checkOut(buf, undefined, "allreduce"), undefined);
  assert.is(checkOut(buf, {}, "allreduce"), undefined);
  // empty arrays share no bytes
  assert.ok(checkOut(buf.subarray(2, 2), { out: buf.subarray(2, 2) }, "allreduce") !== undefined);
});

test.run();
