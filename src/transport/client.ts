/** Connecting to a peer rank: open a WebSocket, authenticate with a Hello, wait for the peer's Hello. */
import type { IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { decode, encode, type HelloMsg } from "../protocol/messages.js";
import { formatHostPort } from "./address.js";
import { Link } from "./link.js";
import type { TransportLimits } from "./limits.js";

export interface Connected {
  link: Link;
  /** the peer's Hello */
  peer: HelloMsg;
  /** the local address of the connection (the interface that routes to the peer) */
  localAddress: string;
}

export class ConnectError extends Error {
  /** true when the peer answered and refused us (wrong token, duplicate rank): retrying may find a fresher address */
  readonly refused: boolean;
  constructor(message: string, refused: boolean) {
    super(message);
    this.refused = refused;
  }
}

const zeroMask = (mask: Buffer) => {
  mask.fill(0);
};

/**
 * One attempt to connect to host:port and authenticate. The frames are not masked (a zero mask, which ws
 * then skips): masking protects browsers' proxies, not authenticated rank-to-rank links, and costs a copy.
 */
export function connectPeer(
  host: string,
  port: number,
  hello: HelloMsg | (() => HelloMsg),
  limits: TransportLimits,
  timeoutMs: number,
): Promise<Connected> {
  const where = formatHostPort({ host, port });
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${where}/`, {
      maxPayload: limits.maxPayload,
      handshakeTimeout: Math.max(1, Math.min(timeoutMs, limits.handshakeTimeoutMs)),
      perMessageDeflate: false,
      generateMask: zeroMask,
    });
    let done = false;
    const fail = (msg: string, refused: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
      reject(new ConnectError(msg, refused));
    };
    const timer = setTimeout(() => fail(`no answer from ${where} within ${timeoutMs} ms`, false), timeoutMs);
    ws.on("error", (err: Error) => fail(err.message, false));
    ws.on("close", (code: number, reason: Buffer) =>
      fail(`${where} closed the connection (code ${code}${reason.length ? ` ${reason.toString()}` : ""})`, true),
    );
    let localAddress = "";
    ws.on("upgrade", (res: IncomingMessage) => {
      localAddress = res.socket.localAddress ?? "";
    });
    ws.on("open", () => {
      ws.send(encode(typeof hello === "function" ? hello() : hello), { binary: true });
    });
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      if (done) return;
      let peer: HelloMsg;
      try {
        const m = isBinary ? decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : null;
        if (!m || m.kind !== "hello") return fail(`${where} answered with something other than a Hello`, true);
        peer = m;
      } catch {
        return fail(`${where} is not a tessera rank`, true);
      }
      done = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      const link = new Link(ws, peer.rank, limits);
      resolve({ link, peer, localAddress: localAddress.replace(/^::ffff:/, "") });
    });
  });
}
