/**
 * A rank's WebSocket server. Every connection must authenticate (transport/auth.ts) before anything else
 * of it is read or dispatched:
 *   client -> Hello (its rank, the job, a fresh nonce)       server -> AuthChallenge (its rank, its nonce)
 *   client -> AuthProof (HMAC of the token)                  server -> AuthProof (its own, after verifying)
 * Until then a connection is "pending": it may send only messages of a handshake's size (a larger frame is
 * refused at its header, unread), it has a deadline counted from the TCP accept (so a slow HTTP upgrade
 * counts too), and pending connections have their own budget, apart from the authenticated peers' cap:
 * when it is full the oldest pending one is dropped, so idle connections cannot keep a rank's peers out.
 * Refusals are closed with 1008 (authentication) or 1013 (too many peers) and logged, rate-limited.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { decode, encode, PROTOCOL_VERSION, type HelloMsg, type Msg } from "../protocol/messages.js";
import { NONCE_BYTES, newNonce, proofFor, proofValid, type Transcript } from "./auth.js";
import { HANDSHAKE_MAX_BYTES, setMaxPayload } from "./frame-limit.js";
import { Link } from "./link.js";
import type { TransportLimits } from "./limits.js";
import { RefusalLog } from "./refusal-log.js";

/** Close codes: 1008 policy violation (authentication), 1013 try again later (too many connections). */
export const CLOSE_AUTH = 1008;
export const CLOSE_BUSY = 1013;

export interface ServerOptions {
  host: string;
  port: number;
  /** the world's token (a function: a rank may learn it after it starts listening); empty refuses everyone */
  token: () => string;
  /** this rank, the world's size and the job: what the proofs are computed over */
  rank: number;
  size: number;
  job: string;
  limits: TransportLimits;
  /**
   * Checks an unauthenticated Hello's claims (job, size, rank) before the handshake goes on: a reason to
   * refuse it (told to the peer: it concerns only what it claimed), or nothing.
   */
  precheck?: (hello: HelloMsg) => string | undefined;
  /**
   * An authenticated peer. Return a reason to refuse it (e.g. a duplicate rank), or nothing to accept:
   * the link then belongs to the callee. Called synchronously before any later frame is delivered.
   */
  onPeer: (hello: HelloMsg, link: Link) => string | undefined;
  /** refusals by onPeer that are part of the protocol (two ranks dialing each other at once): not logged */
  routine?: (refusal: string) => boolean;
  /** where refusals are logged (default: stderr), at most a few lines then a summary every 10 s */
  log?: (line: string) => void;
}

interface Pending {
  from: string;
  since: number;
  timer: NodeJS.Timeout;
}

export class PeerServer {
  readonly host: string;
  readonly port: number;
  authFailures = 0;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly opts: ServerOptions;
  private readonly refusals: RefusalLog;
  /** TCP connections not authenticated yet, oldest first */
  private readonly pending = new Map<Socket, Pending>();
  private readonly peers = new Set<WebSocket>();
  private listening = true;
  private closed: Promise<void> | null = null;
  /** whether the listening socket and connections still authenticating keep the process running */
  private holding = true;

  private constructor(http: Server, wss: WebSocketServer, opts: ServerOptions) {
    this.http = http;
    this.wss = wss;
    this.opts = opts;
    this.refusals = new RefusalLog(opts.log ?? logErr);
    const a = http.address() as AddressInfo;
    this.host = a.address;
    this.port = a.port;
    http.on("connection", (sock: Socket) => this.admit(sock));
    wss.on("connection", (ws, req) => this.handshake(ws, req.socket));
  }

  /** Listens on host:port (port 0: any free port). Rejects with the system error (EADDRINUSE, EADDRNOTAVAIL...). */
  static listen(opts: ServerOptions): Promise<PeerServer> {
    return new Promise((resolve, reject) => {
      const http = createServer({ maxHeaderSize: 8192 }, (_req, res) => {
        res.writeHead(426, { "content-type": "text/plain" }).end("tessera rank: WebSocket only\n");
      });
      http.maxHeadersCount = 50;
      const wss = new WebSocketServer({
        server: http,
        maxPayload: HANDSHAKE_MAX_BYTES, // raised per connection once it has authenticated
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

  /**
   * Whether this server keeps the process running: its listening socket and the connections still
   * authenticating (an authenticated one is its Link's to hold). Connections are admitted either way while
   * the process runs.
   */
  holdProcess(hold: boolean): void {
    this.holding = hold;
    if (hold) this.http.ref();
    else this.http.unref();
    for (const sock of this.pending.keys()) {
      if (hold) sock.ref();
      else sock.unref();
    }
  }

  /** Connections that have not authenticated yet (for tests and diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private where(): string {
    return `${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** A new TCP connection: pending, with its deadline, within the pending budget. */
  private admit(sock: Socket): void {
    const from = `${sock.remoteAddress}:${sock.remotePort}`;
    if (!this.holding) sock.unref();
    if (!this.listening) {
      sock.destroy();
      return;
    }
    const { maxPending, handshakeTimeoutMs } = this.opts.limits;
    while (this.pending.size >= maxPending) {
      const [oldest, p] = this.pending.entries().next().value as [Socket, Pending];
      this.unpend(oldest);
      oldest.destroy();
      this.refusals.note(
        `tessera: dropped an unauthenticated connection from ${p.from} on ${this.where()} after ${Date.now() - p.since} ms ` +
          `(${maxPending} were authenticating at once; TESSERA_MAX_PENDING)`,
      );
    }
    const timer = setTimeout(() => {
      this.unpend(sock);
      this.refusals.note(`tessera: AUTH_FAILED: refused a connection from ${from} on ${this.where()}: no authentication within ${handshakeTimeoutMs} ms`);
      this.authFailures++;
      sock.destroy();
    }, handshakeTimeoutMs);
    timer.unref();
    this.pending.set(sock, { from, since: Date.now(), timer });
    sock.once("close", () => this.unpend(sock));
  }

  private unpend(sock: Socket): void {
    const p = this.pending.get(sock);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(sock);
  }

  private refuse(ws: WebSocket, sock: Socket, from: string, why: string, opts: { code?: number; reason?: string; auth?: boolean } = {}): void {
    const code = opts.code ?? CLOSE_AUTH;
    this.unpend(sock); // refused: counted no more (it is terminated within 200 ms)
    if (opts.auth !== false && code === CLOSE_AUTH) {
      this.authFailures++;
      this.refusals.note(`tessera: AUTH_FAILED: refused a connection from ${from} on ${this.where()}: ${why}`);
    } else this.refusals.note(`tessera: refused a connection from ${from} on ${this.where()}: ${why}`);
    ws.removeAllListeners("message");
    ws.on("error", () => {});
    ws.pause(); // read nothing more from it
    try {
      ws.close(code, (opts.reason ?? (code === CLOSE_AUTH ? "AUTH_FAILED" : why)).slice(0, 120));
    } catch {
      /* already closing */
    }
    setTimeout(() => ws.terminate(), 200).unref();
  }

  /** The handshake of an upgraded connection (see the top of this file). */
  private handshake(ws: WebSocket, sock: Socket): void {
    const pend = this.pending.get(sock);
    if (!pend) {
      ws.terminate(); // its deadline passed, or it was dropped, while upgrading
      return;
    }
    const from = pend.from;
    ws.on("error", () => ws.terminate());
    let hello: HelloMsg | null = null;
    let serverNonce: Uint8Array | null = null;
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return this.refuse(ws, sock, from, "a text frame, not a Hello");
      let m: Msg;
      try {
        m = decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch {
        return this.refuse(ws, sock, from, `${hello ? "the second" : "the first"} frame is not a tessera message`);
      }
      if (!hello) {
        if (m.kind !== "hello") return this.refuse(ws, sock, from, `the first frame is a ${m.kind} message, not a Hello`);
        if (m.version !== PROTOCOL_VERSION) {
          const older = m.version < PROTOCOL_VERSION ? " (an older tessera, which sends its token in clear)" : "";
          return this.refuse(ws, sock, from, `protocol version ${m.version}, expected ${PROTOCOL_VERSION}${older}`, { reason: `protocol version ${PROTOCOL_VERSION} only` });
        }
        if (m.nonce.length !== NONCE_BYTES) return this.refuse(ws, sock, from, `a Hello with a nonce of ${m.nonce.length} bytes`);
        const why = this.opts.precheck?.(m);
        if (why) return this.refuse(ws, sock, from, `rank ${m.rank}: ${why}`, { reason: why, auth: false });
        hello = m;
        serverNonce = newNonce();
        ws.send(encode({ kind: "challenge", rank: this.opts.rank, nonce: serverNonce }), { binary: true });
        return;
      }
      if (m.kind !== "proof") return this.refuse(ws, sock, from, `a ${m.kind} message where its proof was due`);
      ws.off("message", onMessage);
      const token = this.opts.token();
      const t: Transcript = {
        job: this.opts.job, size: this.opts.size, client: hello.rank, server: this.opts.rank,
        clientHost: hello.host, clientPort: hello.port, clientNonce: hello.nonce, serverNonce: serverNonce!,
      };
      if (!token) return this.refuse(ws, sock, from, "this rank has no token (it never accepts an empty one)");
      if (!proofValid(token, "client", t, m.proof)) return this.refuse(ws, sock, from, "wrong token (its proof does not verify)");
      // authenticated: this socket, and no other, is the peer's link from now on
      this.unpend(sock);
      if (this.peers.size >= this.opts.limits.maxConnections) {
        return this.refuse(ws, sock, from, `rank ${hello.rank}: more than ${this.opts.limits.maxConnections} peers`, { code: CLOSE_BUSY });
      }
      setMaxPayload(ws, this.opts.limits.maxPayload);
      ws.removeAllListeners("error");
      const link = new Link(ws, sock, hello.rank, this.opts.limits);
      const refusal = this.opts.onPeer(hello, link)?.slice(0, 200);
      ws.send(encode({ kind: "proof", proof: proofFor(token, "server", t), refusal: refusal ?? "" }), { binary: true });
      if (refusal) {
        if (!this.opts.routine?.(refusal)) this.refusals.note(`tessera: refused rank ${hello.rank} from ${from}: ${refusal}`);
        void link.close(CLOSE_AUTH, refusal.slice(0, 100), 200);
        return;
      }
      this.peers.add(ws);
      ws.once("close", () => this.peers.delete(ws));
    };
    ws.on("message", onMessage);
  }

  /**
   * Stops accepting connections; the authenticated links stay open. Connections still authenticating
   * are dropped: once a world is complete nobody has a reason to connect.
   */
  stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.closed = new Promise((resolve) => this.http.close(() => resolve()));
    for (const sock of [...this.pending.keys()]) {
      this.unpend(sock);
      sock.destroy();
    }
    this.refusals.flush();
  }

  /** Stops listening and closes every connection still open on this server (terminated after graceMs). */
  async close(graceMs = 500): Promise<void> {
    this.stopListening();
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
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeIdleConnections();
    await this.closed;
    clearTimeout(t);
  }
}

function logErr(line: string): void {
  process.stderr.write(line + "\n");
}
