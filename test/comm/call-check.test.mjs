// Matching collectives across ranks (src/comm/call-check.ts): every call's signature is checked against
// each peer's call of the same sequence number, whichever comes first.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CallLedger, describeCall, FINGERPRINT } from "../../dist/comm/call-check.js";
import { CollOp, ReduceOp } from "../../dist/protocol/messages.js";

const sig = (op, root = 0, reduce = ReduceOp.None, tag = 0) => ({ op, root, reduce, tag });
const BARRIER = sig(CollOp.Barrier);
const GATHER_BYTES = sig(CollOp.AllgatherBytes);

test("matching calls, in either order of call and arrival, are no mismatch", () => {
  const l = new CallLedger(0);
  assert.equal(l.begin(BARRIER), { seq: 0, mismatch: null });
  assert.is(l.arrived(1, 0, BARRIER), null); // after this rank's call
  assert.is(l.arrived(1, 1, GATHER_BYTES), null); // before it
  assert.is(l.arrived(2, 1, GATHER_BYTES), null);
  assert.equal(l.begin(GATHER_BYTES), { seq: 1, mismatch: null });
  assert.is(l.next, 2);
});

test("a peer's message of another collective: the mismatch names both ranks' calls and the number", () => {
  const after = new CallLedger(0);
  after.begin(BARRIER);
  after.begin(BARRIER);
  after.begin(GATHER_BYTES);
  const m = after.arrived(1, 2, BARRIER);
  assert.match(m, /^rank 0 called compute\(\)'s allgather #3 while rank 1 called barrier #3: every rank must call the same collectives/);
  const before = new CallLedger(2);
  assert.is(before.arrived(1, 0, BARRIER), null);
  assert.match(before.begin(sig(CollOp.Allgather)).mismatch, /^rank 1 called barrier #1 while rank 2 called allgather #1/);
});

test("the same collective with another root, reduction or tag is a mismatch too", () => {
  const l = new CallLedger(0);
  l.begin(sig(CollOp.Bcast, 0));
  assert.match(l.arrived(1, 0, sig(CollOp.Bcast, 2)), /rank 0 called bcast \(root 0\) #1 while rank 1 called bcast \(root 2\) #1/);
  l.begin(sig(CollOp.Allreduce, 0, ReduceOp.Sum));
  assert.match(l.arrived(1, 1, sig(CollOp.Allreduce, 0, ReduceOp.Max)), /rank 0 called allreduce \(sum\) #2 while rank 1 called allreduce \(max\) #2/);
  l.begin(sig(CollOp.AllgatherBytes, 0, ReduceOp.None, 7));
  assert.match(l.arrived(1, 2, GATHER_BYTES), /rank 0 called allgatherBytes \(tag 7\) #3 while rank 1 called compute\(\)'s allgather #3/);
});

test("two peers that disagree are caught before this rank gets there", () => {
  const l = new CallLedger(0);
  assert.is(l.arrived(1, 0, BARRIER), null);
  assert.match(l.arrived(2, 0, sig(CollOp.Gather, 1)), /rank 1 called barrier #1 while rank 2 called gather \(root 1\) #1/);
});

test("every kind of call has a readable name", () => {
  assert.is(describeCall(sig(CollOp.Reduce, 3, ReduceOp.Custom)), "reduce (a function, root 3)");
  assert.is(describeCall(sig(FINGERPRINT)), "a graph fingerprint check");
  assert.is(describeCall(sig(CollOp.Gather, 1)), "gather (root 1)");
});

test.run();
