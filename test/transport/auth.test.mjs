// Mutual authentication of the transport, in one process: worlds built with establish() several times,
// intruders speaking raw WebSocket to a rank's port, and impostors holding the port a rank connects to.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createConnection } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { establish } from "../../dist/comm/mesh.js";
import { encode, decode, PROTOCOL_VERSION, CollOp, ReduceOp, DType } from "../../dist/protocol/messages.js";
import { PeerServer, CLOSE_AUTH } from "../../dist/transport/server.js";
import { connectPeer } from "../../dist/transport/client.js";
import { defaultLimits } from "../../dist/transport/limits.js";
import { tokensEqual, newToken, newNonce, proofFor, proofValid } from "../../dist/transport/auth.js";
import { freePort } from "../comm/harness.mjs";

const info = (rank, port, token, size = 2) => ({
  rank, size, localRank: rank, nodes: [], allLocal: true, jobId: "t", stepId: "0", source: "tessera",
  coordinator: { host: "127.0.0.1", port }, token,
});

/** A raw WebSocket client: every message it gets (decoded when it can be), and how it was closed. */
function rawClient(port) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const got = [];
  const waiters = [];
  ws.on("message", (d) => {
    const m = (() => {
      try {
        return decode(new Uint8Array(d));
      } catch {
        return { kind: "garbage" };
      }
    })();
    got.push({ raw: Buffer.from(d), m });
    waiters.shift()?.(m);
  });
  ws.on("error", () => {});
  const closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise((resolve) => ws.on("open", resolve));
  const next = (ms = 2000) => new Promise((resolve) => {
    waiters.push(resolve);
    setTimeout(() => resolve(null), ms).unref();
  });
  return { ws, got, closed, opened, next };
}

const hello = (over = {}) => ({ kind: "hello", version: PROTOCOL_VERSION, rank: 1, size: 2, host: "127.0.0.1", port: 1, job: "t.0", nonce: newNonce(), ...over });
const fakeContribution = () => encode({
  kind: "collective", op: CollOp.Allreduce, tag: 0, seq: 0, root: 0, step: 0, src: 1, reduce: ReduceOp.Sum,
  dtype: DType.Number, shape: [], offset: 0, total: 8, parts: [], payload: new Uint8Array(new Float64Array([1000]).buffer),
});

/** Captures stderr lines containing `mark` while `f` runs. */
async function capturing(mark, f) {
  const logs = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = (s, ...a) => (String(s).includes(mark) ? (logs.push(String(s)), true) : orig(s, ...a));
  try {
    await f(logs);
  } finally {
    process.stderr.write = orig;
  }
  return logs;
}

test("tokens: constant-time comparison, fresh tokens", () => {
  const t = newToken();
  assert.is(t.length, 64);
  assert.ok(tokensEqual(t, t));
  assert.not.ok(tokensEqual(t, t.slice(0, 63)));
  assert.not.ok(tokensEqual(t, newToken()));
});

test("proofs: bound to the token, the direction, both nonces and both ranks; an empty token proves nothing", () => {
  const token = newToken();
  const t = { job: "j.0", size: 3, client: 2, server: 0, clientHost: "127.0.0.1", clientPort: 4000, clientNonce: newNonce(), serverNonce: newNonce() };
  const p = proofFor(token, "client", t);
  assert.is(p.length, 32);
  assert.ok(proofValid(token, "client", t, p));
  assert.not.ok(proofValid(token, "server", t, p), "a client's proof reflected back is not the server's");
  assert.not.ok(proofValid(newToken(), "client", t, p));
  for (const change of [{ serverNonce: newNonce() }, { clientNonce: newNonce() }, { client: 1 }, { server: 1 }, { job: "k.0" }, { size: 4 }, { clientPort: 4001 }, { clientHost: "127.0.0.2" }]) {
    assert.not.ok(proofValid(token, "client", { ...t, ...change }, p), JSON.stringify(Object.keys(change)));
  }
  assert.not.ok(proofValid("", "client", t, p));
  assert.throws(() => proofFor("", "client", t));
  assert.not.ok(proofValid(token, "client", t, p.subarray(0, 31)));
});

/** Resolves once something listens on the port. */
async function listening(port) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = createConnection(port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a wrong or missing proof, or anything but a handshake, is refused (1008, AUTH_FAILED logged) and its frames never dispatched", async () => {
  const port = await freePort();
  const token = newToken();
  const logs = await capturing("tessera: ", async () => {
    const rank0 = establish(info(0, port, token), { timeoutMs: 10_000 });
    rank0.catch(() => {});
    await listening(port);
    const wrongProof = async () => {
      const c = rawClient(port);
      await c.opened;
      c.ws.send(encode(hello()));
      const ch = await c.next();
      assert.is(ch?.kind, "challenge");
      c.ws.send(encode({ kind: "proof", proof: new Uint8Array(32).fill(1), refusal: "" }));
      c.ws.send(fakeContribution());
      return c;
    };
    const dataInsteadOfProof = async () => {
      const c = rawClient(port);
      await c.opened;
      c.ws.send(encode(hello()));
      await c.next();
      c.ws.send(fakeContribution());
      return c;
    };
    const first = async (frame) => {
      const c = rawClient(port);
      await c.opened;
      c.ws.send(frame);
      return c;
    };
    const clients = await Promise.all([
      wrongProof(), dataInsteadOfProof(), first(fakeContribution()), first("text"),
      first(encode(hello({ nonce: new Uint8Array(0) }))), first(encode(hello({ version: 1 }))),
    ]);
    for (const c of clients) {
      assert.is((await c.closed).code, CLOSE_AUTH);
      assert.ok(c.got.every((g) => g.m.kind === "challenge"), "nothing but a challenge ever came back: no proof of the token");
    }
    const w1 = await establish(info(1, port, token));
    const w0 = await rank0;
    const [a, b] = await Promise.all([w0.allreduce(1), w1.allreduce(2)]);
    assert.equal([a, b], [3, 3]); // the fake 1000s were never dispatched
    await Promise.all([w0.close(), w1.close()]);
  });
  const refusals = logs.filter((l) => l.includes("AUTH_FAILED"));
  assert.is(refusals.length, 6, logs.join(""));
  assert.ok(refusals.some((l) => l.includes("wrong token")));
  assert.ok(refusals.some((l) => l.includes("protocol version 1, expected 2")));
  assert.ok(refusals.some((l) => l.includes("where its proof was due")));
});

test("a replayed handshake fails: the server's nonce is fresh for every connection", async () => {
  const token = newToken();
  const accepted = [];
  const logs = [];
  const server = await PeerServer.listen({
    host: "127.0.0.1", port: 0, token: () => token, rank: 0, size: 2, job: "t.0", limits: defaultLimits(2),
    onPeer: (h, link) => (accepted.push(link), undefined), log: (l) => logs.push(l),
  });
  // a relay in front of the real server records a genuine rank 1's Hello and proof
  const relay = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const recorded = [];
  relay.on("connection", (down) => {
    const up = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const pending = [];
    up.on("open", () => pending.splice(0).forEach((d) => up.send(d)));
    down.on("message", (d) => (recorded.push(Buffer.from(d)), up.readyState === 1 ? up.send(d) : pending.push(d)));
    up.on("message", (d) => down.send(d));
    up.on("close", () => down.close());
    down.on("close", () => up.close());
  });
  await new Promise((r) => relay.once("listening", r));
  try {
    const auth = { token, rank: 1, size: 2, job: "t.0", host: "127.0.0.1", port: 1, expect: 0 };
    const c = await connectPeer("127.0.0.1", relay.address().port, auth, defaultLimits(2), 3000);
    c.link.terminate();
    assert.is(recorded.length, 2, "a Hello and a proof");
    // the same two frames, sent again straight to the server
    const r = rawClient(server.port);
    await r.opened;
    r.ws.send(recorded[0]);
    assert.is((await r.next())?.kind, "challenge");
    r.ws.send(recorded[1]);
    assert.is((await r.closed).code, CLOSE_AUTH);
    assert.is(accepted.length, 1, "only the genuine connection was accepted");
    assert.ok(logs.some((l) => l.includes("wrong token")));
  } finally {
    relay.close();
    await server.close();
  }
});

/** An impostor: a WebSocket server that knows no token, records what it gets, and answers with `answer`. */
async function impostor(answer) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const received = [];
  wss.on("connection", (ws) => {
    ws.on("error", () => {});
    ws.on("message", (d) => {
      received.push(Buffer.from(d));
      let m = null;
      try {
        m = decode(new Uint8Array(d));
      } catch {
        /* not ours */
      }
      answer(ws, m);
    });
  });
  await new Promise((r) => wss.once("listening", r));
  return { port: wss.address().port, received, close: () => new Promise((r) => wss.close(r)) };
}

test("a rank authenticates the rank it connects to: impostors get no token and no usable proof", async () => {
  const token = newToken();
  const auth = { token, rank: 1, size: 2, job: "t.0", host: "127.0.0.1", port: 1, expect: 0 };
  const answers = {
    // protocol 1: a Hello back, with an empty token
    "an old Hello with an empty token": (ws, m) => m?.kind === "hello" && ws.send(encode({ kind: "abort", rank: 0, reason: "" })),
    // reflection: the client's own nonce as the challenge, then the client's own proof as the server's
    "its own nonce and proof reflected": (ws, m) => {
      if (m?.kind === "hello") ws.send(encode({ kind: "challenge", rank: 0, nonce: m.nonce }));
      if (m?.kind === "proof") ws.send(encode({ kind: "proof", proof: m.proof, refusal: "" }));
    },
    "a fresh challenge, then its proof reflected": (ws, m) => {
      if (m?.kind === "hello") ws.send(encode({ kind: "challenge", rank: 0, nonce: newNonce() }));
      if (m?.kind === "proof") ws.send(encode({ kind: "proof", proof: m.proof, refusal: "" }));
    },
    "a random proof": (ws, m) => {
      if (m?.kind === "hello") ws.send(encode({ kind: "challenge", rank: 0, nonce: newNonce() }));
      if (m?.kind === "proof") ws.send(encode({ kind: "proof", proof: newNonce(), refusal: "" }));
    },
    "a 200 MiB frame instead of a challenge": (ws, m) => {
      if (m?.kind === "hello") ws.send(Buffer.alloc(200 * 1024 * 1024));
    },
  };
  for (const [what, answer] of Object.entries(answers)) {
    const imp = await impostor(answer);
    try {
      const t0 = Date.now();
      const err = await connectPeer("127.0.0.1", imp.port, auth, defaultLimits(2), 5000).then(() => null, (e) => e);
      assert.ok(err, `${what}: connected to an impostor`);
      assert.ok(err.impostor, `${what}: ${err.message}`);
      assert.ok(Date.now() - t0 < 4000, `${what}: noticed at once, not at the timeout`);
      const all = Buffer.concat(imp.received);
      assert.is(all.indexOf(token), -1, `${what}: the token (hex) was sent`);
      assert.is(all.indexOf(Buffer.from(token, "hex")), -1, `${what}: the token (bytes) was sent`);
      assert.is(all.indexOf(Buffer.from(token, "utf8")), -1);
    } finally {
      await imp.close();
    }
  }
});

test.run();
