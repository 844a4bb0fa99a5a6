// A rank that has sent its proof waits for the peer's answer past its own deadline: the peer may have
// taken the link already (it does so as it sends its proof), and a rank giving up then closed a link
// the peer counted as its own, which lost the rank (seen with 256 ranks on 2 cores).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { WebSocketServer } from "ws";
import { decode, encode } from "../../dist/protocol/messages.js";
import { connectPeer } from "../../dist/transport/client.js";
import { defaultLimits } from "../../dist/transport/limits.js";
import { newNonce, newToken, proofFor } from "../../dist/transport/auth.js";

/** A peer (rank 0 of a world of 2) that answers a proof only after `delayMs`, or never (-1). */
async function slowPeer(token, delayMs) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (ws) => {
    let hello = null;
    const serverNonce = newNonce();
    ws.on("message", (d) => {
      const m = decode(new Uint8Array(d));
      if (m.kind === "hello") {
        hello = m;
        ws.send(encode({ kind: "challenge", rank: 0, nonce: serverNonce }));
      } else if (m.kind === "proof" && delayMs >= 0) {
        const t = { job: hello.job, size: hello.size, client: hello.rank, server: 0, clientHost: hello.host, clientPort: hello.port, clientNonce: hello.nonce, serverNonce };
        setTimeout(() => ws.send(encode({ kind: "proof", proof: proofFor(token, "server", t), refusal: "" })), delayMs);
      }
    });
  });
  return wss;
}

const auth = (token) => ({ token, rank: 1, size: 2, job: "j.0", host: "127.0.0.1", port: 1, expect: 0 });

test("an answer to this rank's proof that comes after its deadline (within the peer's handshake deadline) still makes the link", async () => {
  const token = newToken();
  const wss = await slowPeer(token, 700);
  try {
    const limits = defaultLimits(2, { handshakeTimeoutMs: 1000 });
    const t0 = Date.now();
    const c = await connectPeer("127.0.0.1", wss.address().port, auth(token), limits, 300);
    assert.is(c.rank, 0);
    assert.ok(Date.now() - t0 >= 600, "it waited for the answer");
    c.link.terminate();
  } finally {
    wss.close();
  }
});

test("a peer that never answers the proof: the attempt still ends (its deadline, then 4 handshake timeouts)", async () => {
  const token = newToken();
  const wss = await slowPeer(token, -1);
  try {
    const limits = defaultLimits(2, { handshakeTimeoutMs: 200 });
    const t0 = Date.now();
    const err = await connectPeer("127.0.0.1", wss.address().port, auth(token), limits, 300).then(() => null, (e) => e);
    assert.match(String(err?.message), /no answer from 127\.0\.0\.1:\d+ within 300 ms/);
    const ms = Date.now() - t0;
    assert.ok(ms >= 1000 && ms < 5000, `${ms} ms`);
  } finally {
    wss.close();
  }
});

test.run();
