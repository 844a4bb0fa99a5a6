// What a connection that has not authenticated can cost a rank: the size of what it may send, how long it
// may take, how many may wait at once, and how many lines of stderr their refusals write.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { createConnection } from "node:net";
import { WebSocket } from "ws";
import { establish } from "../../dist/comm/mesh.js";
import { DType, encode } from "../../dist/protocol/messages.js";
import { PeerServer } from "../../dist/transport/server.js";
import { defaultLimits } from "../../dist/transport/limits.js";
import { newToken } from "../../dist/transport/auth.js";
import { maxPayloadOf } from "../../dist/transport/frame-limit.js";
import { RefusalLog } from "../../dist/transport/refusal-log.js";
import { freePort } from "../comm/harness.mjs";

const info = (rank, port, token, size) => ({
  rank, size, localRank: rank, nodes: [], allLocal: true, jobId: "t", stepId: "0", source: "tessera",
  coordinator: { host: "127.0.0.1", port }, token,
});

const serverWith = (limits, logs = []) =>
  PeerServer.listen({
    host: "127.0.0.1", port: 0, token: () => newToken(), rank: 0, size: 2, job: "t.0", limits: defaultLimits(2, limits),
    onPeer: () => undefined, log: (l) => logs.push(l),
  });

const UPGRADE = () =>
  `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A raw TCP connection; resolves with it once the WebSocket upgrade was answered (when `upgrade`). */
function raw(port, { upgrade = true } = {}) {
  return new Promise((resolve) => {
    const s = createConnection(port, "127.0.0.1");
    s.on("error", () => {});
    s.closedAt = new Promise((r) => s.on("close", () => r(Date.now())));
    s.received = [];
    s.on("data", (d) => s.received.push(d));
    s.on("connect", () => {
      if (!upgrade) return resolve(s);
      s.write(UPGRADE());
      s.once("data", () => resolve(s));
    });
    s.on("close", () => resolve(s)); // dropped before it was answered
  });
}

const within = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r(null), ms))]);

test("before authentication a frame larger than a handshake is refused at its header: a 200 MiB first frame is never read", async () => {
  const logs = [];
  const server = await serverWith({ handshakeTimeoutMs: 5000 }, logs); // the full frame limit: 256 MiB
  try {
    const s = await raw(server.port);
    const header = Buffer.alloc(14);
    header[0] = 0x82; // a final binary frame
    header[1] = 0x80 | 127; // masked, 64-bit length
    header.writeBigUInt64BE(200n * 1024n * 1024n, 2);
    const t0 = Date.now();
    s.write(header); // and not one byte of the payload
    const closed = await within(s.closedAt, 2000);
    assert.ok(closed, "the server waited for the 200 MiB instead of refusing the header");
    assert.ok(closed - t0 < 2000);
    const bytes = Buffer.concat(s.received);
    const close = bytes.indexOf(Buffer.from([0x88])); // the close frame: code 1009 (message too big)
    assert.ok(close >= 0 && bytes.readUInt16BE(close + 2) === 1009, bytes.toString("hex"));
    assert.is(server.pendingCount, 0);
  } finally {
    await server.close();
  }
});

test("after authentication the full frame limit applies (raised on the authenticated socket only)", async () => {
  const port = await freePort();
  const token = newToken();
  const limits = { maxPayload: 4 * 1024 * 1024 };
  const [w0, w1] = await Promise.all([0, 1].map((r) => establish(info(r, port, token, 2), { limits, timeoutMs: 10_000 })));
  try {
    for (const [w, peer] of [[w0, 1], [w1, 0]]) assert.is(maxPayloadOf(w.links.get(peer).ws), 4 * 1024 * 1024);
    const big = new Float64Array(300_000).map((_, i) => i); // 2.4 MiB in one frame
    const [, got] = await Promise.all([w1.send(big, 0, 5), w0.recv(1, 5)]);
    assert.is(got.length, big.length);
    assert.is(got[299_999], 299_999);
  } finally {
    await Promise.all([w0.close(), w1.close()]);
  }
});

test("a malformed frame from an authenticated peer is RANK_LOST \"malformed frame\" at once, whatever its length fields claim", async () => {
  const port = await freePort();
  const token = newToken();
  const [w0, w1] = await Promise.all([0, 1].map((r) => establish(info(r, port, token, 2), { timeoutMs: 10_000 })));
  try {
    const f = new Uint8Array(encode({ kind: "p2p", src: 1, dst: 0, tag: 1, seq: 0, dtype: DType.Float64, shape: [0x1234567], offset: 0, total: 8, payload: new Uint8Array(8) }));
    const dv = new DataView(f.buffer);
    for (let at = 0; at + 8 <= f.length; at += 4) {
      if (dv.getUint32(at, true) === 1 && dv.getUint32(at + 4, true) === 0x1234567) dv.setUint32(at, 1e8, true); // the shape claims 1e8 dims
    }
    const t0 = Date.now();
    const waiting = w0.recv(1, 1).then(() => null, (e) => e);
    await w1.sendFrame(0, f);
    const err = await waiting;
    assert.is(err?.code, "RANK_LOST");
    assert.match(err.message, /rank 1 was lost: it sent a malformed frame/);
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  } finally {
    await Promise.all([w0.close(200), w1.close(200)]);
  }
});

test("the handshake deadline counts from the TCP accept: a slow HTTP upgrade or a slow Hello is cut at the deadline", async () => {
  const logs = [];
  const server = await serverWith({ handshakeTimeoutMs: 300 }, logs);
  try {
    const trickle = async (s, bytes) => {
      for (const b of bytes) {
        if (s.destroyed) return;
        s.write(Buffer.from([b]));
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const t0 = Date.now();
    // a byte of the upgrade request every 50 ms (it used to hold the socket ~30 s: Node checks headersTimeout every 30 s)
    const slowHeaders = await raw(server.port, { upgrade: false });
    void trickle(slowHeaders, Buffer.from(UPGRADE() + "x".repeat(2000)));
    // a byte of a Hello frame every 50 ms, after a prompt upgrade
    const slowFrame = await raw(server.port);
    void trickle(slowFrame, Buffer.from([0x82, 0x80 | 100, 0, 0, 0, 0, ...new Array(100).fill(1)]));
    const [a, b] = await Promise.all([within(slowHeaders.closedAt, 3000), within(slowFrame.closedAt, 3000)]);
    assert.ok(a && a - t0 < 2000, `the slow upgrade was held ${a ? a - t0 : ">3000"} ms`);
    assert.ok(b && b - t0 < 2000, `the slow Hello was held ${b ? b - t0 : ">3000"} ms`);
    assert.is(logs.filter((l) => l.includes("no authentication within 300 ms")).length, 2, logs.join("\n"));
  } finally {
    await server.close();
  }
});

test("connections that have not authenticated have their own budget: idle ones held during the rendezvous keep no rank out", async () => {
  const port = await freePort();
  const token = newToken();
  const logs = [];
  const opts = { limits: { maxPending: 4 }, timeoutMs: 8000, log: (l) => logs.push(l) };
  const rank0 = establish(info(0, port, token, 3), opts);
  rank0.catch(() => {});
  let idle = [];
  for (;;) {
    idle = await Promise.all(Array.from({ length: 6 }, () => raw(port, { upgrade: false }).catch(() => null)));
    if (idle.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 20)); // rank 0 is not listening yet
  }
  // six idle TCP connections and six upgraded, silent WebSockets: more than the 3 + 4 connections a cap
  // shared with the peers allowed (rank 1 got 1013 until the rendezvous failed)
  for (let i = 0; i < 6; i++) idle.push(await raw(port));
  try {
    const t0 = Date.now();
    const [w1, w2] = await Promise.all([1, 2].map((r) => establish(info(r, port, token, 3), opts)));
    const w0 = await rank0;
    assert.ok(Date.now() - t0 < 4000, "no rank waited for an idle connection's deadline");
    const sums = await Promise.all([w0, w1, w2].map((w) => w.allreduce(w.rank + 1)));
    assert.equal(sums, [6, 6, 6]);
    assert.ok(logs.some((l) => l.includes("dropped an unauthenticated connection")), logs.join("\n"));
    await Promise.all([w0, w1, w2].map((w) => w.close()));
  } finally {
    for (const s of idle) s?.destroy();
  }
});

test("refused connections write a few lines, then one summary per interval", async () => {
  const logs = [];
  const server = await serverWith({ maxPending: 4 }, logs);
  try {
    // 60 connections at once, each sending something that is not a Hello (or nothing)
    const socks = await Promise.all(Array.from({ length: 60 }, () => raw(server.port).catch(() => null)));
    for (const s of socks) s?.write(Buffer.from([0x82, 0x84, 0, 0, 0, 0, 1, 2, 3, 4]));
    await Promise.all(socks.map((s) => s && within(s.closedAt, 2000)));
    server.stopListening(); // writes the summary now rather than in 10 s
    assert.ok(logs.length <= 6, `${logs.length} lines:\n${logs.join("\n")}`);
    assert.match(logs.at(-1), /\d+ more connections refused in [\d.]+ s; the latest: /);
    const counted = 5 + Number(/(\d+) more/.exec(logs.at(-1))[1]);
    assert.ok(counted >= 60, `${counted} refusals counted of 60`);
  } finally {
    await server.close();
  }
  // the limiter alone: a burst, then a line per interval
  const lines = [];
  const log = new RefusalLog((l) => lines.push(l), 2, 50);
  for (let i = 0; i < 10; i++) log.note(`tessera: refused ${i}`);
  assert.is(lines.length, 2);
  assert.match(lines[1], /further refusals are summed up/);
  await new Promise((r) => setTimeout(r, 120));
  assert.is(lines.length, 3);
  assert.match(lines[2], /^tessera: 8 more connections refused in [\d.]+ s; the latest: refused 9$/);
});

test.run();
