/**
 * A rank's WebSocket server: every connection must authenticate with its first frame (a Hello carrying the
 * world's token) within the handshake timeout; anything else is refused with close code 1008, logged to
 * stderr as AUTH_FAILED, and none of its frames is read further or dispatched. Frame size and connection
 * count are limited.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { decode, encode, PROTOCOL_VERSION, type HelloMsg } from "../protocol/messages.js";
import { tokensEqual } from "./auth.js";
import { Link } from "./link.js";
import type { TransportLimits } from "./limits.js";

/** Close codes: 1008 policy violation (authentication), 1013 try again later (too many connections). */
export const CLOSE_AUTH = 1008;
export const CLOSE_BUSY = 1013;
/** An unauthenticated first frame larger than this is refused without being decoded. */
const MAX_HELLO_BYTES = 64 * 1024;

export interface ServerOptions {
  host: string;
  port: number;
  /** the world's token (a function when it is learned later) */
  token: string | (() => string);
  limits: TransportLimits;
  /** this rank's Hello, sent back as the acknowledgement of an accepted connection */
  hello: () => HelloMsg;
  /**
   * An authenticated peer. Return a reason to refuse it (e.g. a duplicate rank), or nothing to accept:
   * the link then belongs to the callee. Called synchronously before any later frame is delivered.
   */
  onPeer: (hello: HelloMsg, link: Link) => string | undefined;
  /** where refusals are logged (default: stderr) */
  log?: (line: string) => void;
}

export class PeerServer {
  readonly host: string;
  readonly port: number;
  authFailures = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly opts: ServerOptions;

  private constructor(http: Server, wss: WebSocketServer, opts: ServerOptions) {
    this.http = http;
    this.wss = wss;
    this.opts = opts;
    const a = http.address() as AddressInfo;
    this.host = a.address;
    this.port = a.port;
    wss.on("connection", (ws, req) => this.accept(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
  }

  /** Listens on host:port (port 0: any free port). Rejects with the system error (EADDRINUSE, EADDRNOTAVAIL...). */
  static listen(opts: ServerOptions): Promise<PeerServer> {
    return new Promise((resolve, reject) => {
      const http = createServer((_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" }).end("tessera rank: WebSocket only\n");
      });
      http.headersTimeout = opts.limits.handshakeTimeoutMs;
      http.requestTimeout = opts.limits.handshakeTimeoutMs;
      http.maxHeadersCount = 50;
      const wss = new WebSocketServer({
        server: http,
        maxPayload: opts.limits.maxPayload,
        perMessageDeflate: false,
        clientTracking: true,
      });
      wss.on("error", () => {}); // re-emitted http errors, handled below
      http.once("error", (err) => reject(err));
      http.listen(opts.port, opts.host, () => {
        http.removeAllListeners("error");
        http.on("error", (err) => (opts.log ?? logErr)(`tessera: server error: ${err.message}`));
        resolve(new PeerServer(http, wss, opts));
      });
    });
  }

  private refuse(ws: WebSocket, from: string, why: string, code = CLOSE_AUTH): void {
    if (code === CLOSE_AUTH) {
      this.authFailures++;
      if (this.authFailures <= 5 || this.authFailures % 100 === 0) {
        (this.opts.log ?? logErr)(
          `tessera: AUTH_FAILED: refused a connection from ${from} on ${this.host}:${this.port}: ${why}` +
            (this.authFailures === 5 ? " (further refusals are logged every 100th)" : ""),
        );
      }
    } else (this.opts.log ?? logErr)(`tessera: refused a connection from ${from}: ${why}`);
    ws.removeAllListeners("message");
    ws.on("error", () => {});
    ws.pause(); // read nothing more from it
    try {
      ws.close(code, code === CLOSE_AUTH ? "AUTH_FAILED" : why.slice(0, 100));
    } catch {
      /* already closing */
    }
    setTimeout(() => ws.terminate(), 200).unref();
  }

  private accept(ws: WebSocket, from: string): void {
    if (this.wss.clients.size > this.opts.limits.maxConnections) {
      this.refuse(ws, from, `more than ${this.opts.limits.maxConnections} connections`, CLOSE_BUSY);
      return;
    }
    ws.on("error", () => ws.terminate());
    const timer = setTimeout(
      () => this.refuse(ws, from, `no authentication within ${this.opts.limits.handshakeTimeoutMs} ms`),
      this.opts.limits.handshakeTimeoutMs,
    );
    timer.unref();
    ws.once("close", () => clearTimeout(timer));
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      if (!isBinary) return this.refuse(ws, from, "the first frame is text, not a Hello");
      if (data.byteLength > MAX_HELLO_BYTES) return this.refuse(ws, from, `a first frame of ${data.byteLength} bytes`);
      let hello: HelloMsg;
      try {
        const m = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (m.kind !== "hello") return this.refuse(ws, from, `the first frame is a ${m.kind} message, not a Hello`);
        hello = m;
      } catch {
        return this.refuse(ws, from, "the first frame is not a tessera message");
      }
      const expected = typeof this.opts.token === "function" ? this.opts.token() : this.opts.token;
      if (!expected || !tokensEqual(hello.token, expected)) return this.refuse(ws, from, hello.token ? "wrong token" : "no token");
      if (hello.version !== PROTOCOL_VERSION) {
        return this.refuse(ws, from, `protocol version ${hello.version}, expected ${PROTOCOL_VERSION}`, CLOSE_AUTH);
      }
      ws.removeAllListeners("error");
      const link = new Link(ws, hello.rank, this.opts.limits);
      const refusal = this.opts.onPeer(hello, link);
      if (refusal) {
        (this.opts.log ?? logErr)(`tessera: refused rank ${hello.rank} from ${from}: ${refusal}`);
        void link.close(CLOSE_AUTH, refusal.slice(0, 100), 200);
        return;
      }
      ws.send(encode(this.opts.hello()), { binary: true });
    });
  }

  /** Stops listening and closes every connection still open on this server (terminated after graceMs). */
  close(graceMs = 500): Promise<void> {
    return new Promise((resolve) => {
      for (const ws of this.wss.clients) {
        try {
          ws.close(1001, "rank closing");
        } catch {
          /* ignore */
        }
      }
      const t = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
        this.http.closeAllConnections();
      }, graceMs);
      t.unref();
      this.wss.close(() => {
        this.http.close(() => {
          clearTimeout(t);
          resolve();
        });
        this.http.closeIdleConnections();
      });
    });
  }
}

function logErr(line: string): void {
  process.stderr.write(line + "\n");
}
