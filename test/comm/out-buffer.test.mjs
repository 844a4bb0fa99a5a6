// allreduce/reduce's `out` option (MPI's receive buffer) in a world of one, and the checks every world
// makes of it (multi-rank results into `out`: shm.test.mjs's "equal" scenario, on both transports).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { singleWorld } from "../../dist/comm/world.js";
import { checkOut } from "../../dist/comm/out-buffer.js";

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
