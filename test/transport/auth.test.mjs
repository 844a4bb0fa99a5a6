// Authentication and limits of the transport, in one process: a world of two ranks built with establish()
// twice, and intruders speaking raw WebSocket to rank 0's port.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WebSocket } from "ws";
import { establish } from "../../dist/comm/mesh.js";
import { encode, PROTOCOL_VERSION, CollOp, ReduceOp, DType } from "../../dist/protocol/messages.js";
import { PeerServer, CLOSE_AUTH } from "../../dist/transport/server.js";
import { defaultLimits } from "../../dist/transport/limits.js";
import { tokensEqual, newToken } from "../../dist/transport/auth.js";
import { freePort } from "../comm/harness.mjs";

const info = (rank, port, token) => ({
  rank, size: 2, localRank: rank, nodes: [], allLocal: true, jobId: "t", stepId: "0", source: "tessera",
  coordinator: { host: "127.0.0.1", port }, token,
});

function intrude(port, first, rest = []) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const got = [];
    ws.on("open", () => {
      if (first) ws.send(first);
      for (const f of rest) ws.send(f);
    });
    ws.on("message", (d) => got.push(d));
    ws.on("error", () => {});
    ws.on("close", (code) => resolve({ code, got }));
  });
}

test("tokens: constant-time comparison, fresh tokens", () => {
  const t = newToken();
  assert.is(t.length, 64);
  assert.ok(tokensEqual(t, t));
  assert.not.ok(tokensEqual(t, t.slice(0, 63)));
  assert.not.ok(tokensEqual(t, newToken()));
});

test("a wrong or missing token is refused (1008, AUTH_FAILED logged) and its frames never dispatched", async () => {
  const port = await freePort();
  const token = newToken();
  const logs = [];
  const origWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = (s, ...a) => (String(s).includes("AUTH_FAILED") ? (logs.push(String(s)), true) : origWrite(s, ...a));
  try {
    const [w0, w1] = await Promise.all([establish(info(0, port, token)), establish(info(1, port, token))]);
    // an intruder claiming to be rank 1 with a wrong token, then a fake contribution to collective #0
    const fake = encode({
      kind: "collective", op: CollOp.Allreduce, tag: 0, seq: 0, root: 0, step: 0, src: 1, reduce: ReduceOp.Sum,
      dtype: DType.Number, shape: [], offset: 0, total: 8, parts: [], payload: new Uint8Array(new Float64Array([1000]).buffer),
    });
    const wrong = encode({ kind: "hello", version: PROTOCOL_VERSION, rank: 1, size: 2, token: "f".repeat(64), host: "", port: 0, job: "t.0" });
    const none = encode({ kind: "hello", version: PROTOCOL_VERSION, rank: 1, size: 2, token: "", host: "", port: 0, job: "t.0" });
    const results = await Promise.all([intrude(port, wrong, [fake, fake]), intrude(port, none, [fake]), intrude(port, fake), intrude(port, "text")]);
    for (const r of results) {
      assert.is(r.code, CLOSE_AUTH);
      assert.is(r.got.length, 0); // no Hello came back
    }
    assert.is(logs.length, 4);
    assert.ok(logs.some((l) => l.includes("wrong token")));
    assert.ok(logs.some((l) => l.includes("no token")));
    const [a, b] = await Promise.all([w0.allreduce(1), w1.allreduce(2)]);
    assert.equal([a, b], [3, 3]); // the fake 1000 was never dispatched
    await Promise.all([w0.close(), w1.close()]);
  } finally {
    process.stderr.write = origWrite;
  }
});

test("connection limit, handshake timeout, frame limit", async () => {
  const token = newToken();
  const logs = [];
  const accepted = [];
  const server = await PeerServer.listen({
    host: "127.0.0.1", port: 0, token,
    limits: defaultLimits(1, { maxConnections: 2, handshakeTimeoutMs: 300, maxPayload: 1024 }),
    hello: () => ({ kind: "hello", version: PROTOCOL_VERSION, rank: 0, size: 2, token: "", host: "", port: 0, job: "" }),
    onPeer: (h, link) => (accepted.push(link), undefined),
    log: (l) => logs.push(l),
  });
  try {
    const t0 = Date.now();
    const silent = await intrude(server.port, null); // never authenticates
    assert.is(silent.code, CLOSE_AUTH);
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(logs.some((l) => l.includes("no authentication within 300 ms")));
    // over-large first frame
    const big = await intrude(server.port, new Uint8Array(4096));
    assert.ok(big.code === 1009 || big.code === 1006, `code ${big.code}`);
    // connection count: 3 at once with max 2
    const socks = await Promise.all([0, 1, 2].map(() => new Promise((res) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
      ws.on("error", () => {});
      ws.on("open", () => res(ws));
      ws.on("close", (code) => res({ closedWith: code }));
    })));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(logs.some((l) => l.includes("more than 2 connections")), logs.join("\n"));
    for (const s of socks) if (s.terminate) s.terminate();
    assert.is(accepted.length, 0);
  } finally {
    await server.close();
  }
});

test.run();
