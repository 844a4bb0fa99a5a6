/**
 * Connecting to a peer rank: open a WebSocket and authenticate both ways (transport/auth.ts): send a Hello
 * with a fresh nonce, answer the peer's challenge with this rank's proof, and take the link only when the
 * peer's own proof verifies. The token is never sent; until the peer has proven it, only messages of a
 * handshake's size are accepted from it.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { WebSocket } from "ws";
import { decode, encode, PROTOCOL_VERSION, type HelloMsg, type Msg } from "../protocol/messages.js";
import { formatHostPort } from "./address.js";
import { NONCE_BYTES, newNonce, proofFor, proofValid, type Transcript } from "./auth.js";
import { HANDSHAKE_MAX_BYTES, setMaxPayload } from "./frame-limit.js";
import { Link } from "./link.js";
import type { TransportLimits } from "./limits.js";

/** Who connects, to whom, and the secret it proves. */
export interface ClientAuth {
  token: string;
  /** this rank, the world's size and the job */
  rank: number;
  size: number;
  job: string;
  /** where this rank listens for its peers ("" and 0 when it does not) */
  host: string;
  port: number;
  /** the rank expected at the address */
  expect: number;
}

export interface Connected {
  link: Link;
  /** the peer's rank (the one expected) */
  rank: number;
  /** the local address of the connection (the interface that routes to the peer) */
  localAddress: string;
}

export class ConnectError extends Error {
  /** true when the peer answered and refused us (wrong token, duplicate rank): retrying may find a fresher address */
  readonly refused: boolean;
  /** true when the peer did not prove it knows the token (or is not a tessera rank at all, yet holds the port) */
  readonly impostor: boolean;
  /** what the authenticated peer gave as its reason to refuse this rank (e.g. it is connecting to us itself) */
  readonly refusal: string;
  constructor(message: string, refused: boolean, impostor = false, refusal = "") {
    super(message);
    this.refused = refused;
    this.impostor = impostor;
    this.refusal = refusal;
  }
}

const zeroMask = (mask: Buffer) => {
  mask.fill(0);
};

/**
 * One attempt to connect to host:port and authenticate. The frames are not masked (a zero mask, which ws
 * then skips): masking protects browsers' proxies, not authenticated rank-to-rank links, and costs a copy.
 */
export function connectPeer(host: string, port: number, auth: ClientAuth, limits: TransportLimits, timeoutMs: number): Promise<Connected> {
  const where = formatHostPort({ host, port });
  if (!auth.token) return Promise.reject(new ConnectError(`no token to authenticate to ${where} with`, false));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${where}/`, {
      maxPayload: HANDSHAKE_MAX_BYTES, // raised once the peer has proven the token
      handshakeTimeout: Math.max(1, Math.min(timeoutMs, limits.handshakeTimeoutMs)),
      perMessageDeflate: false,
      generateMask: zeroMask,
    });
    let done = false;
    let stage: "hello" | "proof" = "hello";
    const fail = (msg: string, refused: boolean, impostor = false, refusal = "") => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
      reject(new ConnectError(msg, refused, impostor, refusal));
    };
    // Once this rank has sent its proof the peer may take the link at any moment (it does so as it sends
    // its own proof); giving up then would close a link the peer counts as its own, and it would lose this
    // rank. The peer settles a pending connection within its handshake deadline (it answers, or closes),
    // so past this rank's own deadline it waits for that a while longer: on a host so loaded that ranks
    // stall for seconds, the answer is usually on its way (or waiting unread, as timers run before reads).
    const onTimeout = () => {
      if (stage === "proof" && !extended) {
        extended = true;
        timer = setTimeout(onTimeout, 4 * limits.handshakeTimeoutMs);
        return;
      }
      fail(`no answer from ${where} within ${timeoutMs} ms`, false);
    };
    let extended = false;
    let timer = setTimeout(onTimeout, timeoutMs);
    ws.on("error", (err: Error) =>
      fail(`${where}: ${err.message}`, false, /Max payload/.test(err.message)), // a frame no handshake needs
    );
    ws.on("close", (code: number, reason: Buffer) =>
      fail(`${where} closed the connection (code ${code}${reason.length ? ` ${reason.toString()}` : ""})`, true),
    );
    let localAddress = "";
    let socket: Socket | null = null;
    ws.on("upgrade", (res: IncomingMessage) => {
      socket = res.socket;
      localAddress = res.socket.localAddress ?? "";
    });
    const clientNonce = newNonce();
    const hello: HelloMsg = {
      kind: "hello", version: PROTOCOL_VERSION, rank: auth.rank, size: auth.size, host: auth.host, port: auth.port, job: auth.job, nonce: clientNonce,
    };
    let t: Transcript | null = null;
    ws.on("open", () => {
      ws.send(encode(hello), { binary: true });
    });
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (done) return;
      let m: Msg | null = null;
      try {
        m = isBinary ? decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : null;
      } catch {
        m = null;
      }
      if (stage === "hello") {
        if (!m || m.kind !== "challenge") return fail(`${where} is not a tessera rank of protocol ${PROTOCOL_VERSION} (it answered a Hello with ${m ? `a ${m.kind} message` : "no tessera message"})`, true, true);
        if (m.rank !== auth.expect) return fail(`${where} is rank ${m.rank}, not rank ${auth.expect}`, true);
        if (m.nonce.length !== NONCE_BYTES || Buffer.from(m.nonce).equals(clientNonce)) return fail(`${where} sent a bad challenge`, true, true);
        t = {
          job: auth.job, size: auth.size, client: auth.rank, server: auth.expect, clientHost: auth.host, clientPort: auth.port,
          clientNonce, serverNonce: m.nonce,
        };
        stage = "proof";
        ws.send(encode({ kind: "proof", proof: proofFor(auth.token, "client", t), refusal: "" }), { binary: true });
        return;
      }
      if (!m || m.kind !== "proof" || !proofValid(auth.token, "server", t!, m.proof)) {
        return fail(`${where} did not prove it knows the token (it is not rank ${auth.expect} of this job: an impostor holding its port, or a rank of another job)`, false, true);
      }
      if (m.refusal) return fail(`${where} (rank ${auth.expect}) refused this rank: ${m.refusal}`, true, false, m.refusal);
      done = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      setMaxPayload(ws, limits.maxPayload);
      const link = new Link(ws, socket!, auth.expect, limits); // messages come only after the upgrade
      resolve({ link, rank: auth.expect, localAddress: localAddress.replace(/^::ffff:/, "") });
    };
    ws.on("message", onMessage);
  });
}
