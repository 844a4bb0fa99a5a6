/**
 * An authenticated WebSocket connection to one peer rank: binary frames in and out, ping/pong heartbeats,
 * and one close notification (with whether the peer was declared dead).
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { TransportLimits } from "./limits.js";

export interface LinkClosed {
  /** why: "closed by peer (1000)", "no heartbeat for 5.0 s", "connection error: ..." */
  reason: string;
  /** true when the peer stopped answering (not a closed connection) */
  dead: boolean;
  /** true when this side closed the link */
  local: boolean;
}

/** One WebSocket message: a frame, or a frame in fragments (sent back to back, from where each lies). */
export type Frame = Uint8Array | { fragments: Uint8Array[] };

const SEND_OPTS = { binary: true };
const MORE_OPTS = { binary: true, fin: false };

export class Link {
  readonly peer: number;
  readonly ws: WebSocket;
  /** the TCP connection under `ws` (holdProcess refs and unrefs it) */
  private readonly socket: Socket;
  private handler: ((fragments: Uint8Array[]) => void) | null = null;
  private early: Uint8Array[][] = [];
  private closeHandler: ((info: LinkClosed) => void) | null = null;
  private closedInfo: LinkClosed | null = null;
  private lastSeen = Date.now();
  private lastTick = Date.now();
  private timer: NodeJS.Timeout;
  private pendingReason: LinkClosed | null = null;

  /** When the peer was last heard (a message, a ping or a pong), ms since the epoch: the dashboard's "last heartbeat". */
  get lastHeard(): number {
    return this.lastSeen;
  }

  constructor(ws: WebSocket, socket: Socket, peer: number, limits: Pick<TransportLimits, "heartbeatMs" | "peerTimeoutMs">) {
    this.ws = ws;
    this.socket = socket;
    this.peer = peer;
    // a message in several fragments arrives as its fragments, not joined (a large payload is one of them)
    ws.binaryType = "fragments";
    ws.on("message", (data: Buffer[], isBinary: boolean) => {
      this.lastSeen = Date.now();
      if (!isBinary) {
        this.fail({ reason: "a text frame (tessera speaks binary only)", dead: false, local: true }, 1003);
        return;
      }
      if (this.handler) this.handler(data);
      else this.early.push(data);
    });
    ws.on("pong", () => (this.lastSeen = Date.now()));
    ws.on("ping", () => (this.lastSeen = Date.now()));
    ws.on("error", (err: Error) => {
      this.pendingReason ??= { reason: `connection error: ${err.message}`, dead: false, local: false };
      ws.terminate();
    });
    ws.on("close", (code: number, reason: Buffer) => {
      const why = reason.length ? `: ${reason.toString()}` : "";
      this.finish(this.pendingReason ?? { reason: `connection closed by rank ${peer} (code ${code}${why})`, dead: false, local: false });
    });
    this.timer = setInterval(() => this.beat(limits.heartbeatMs, limits.peerTimeoutMs), limits.heartbeatMs);
    this.timer.unref();
  }

  private beat(heartbeatMs: number, peerTimeoutMs: number): void {
    const now = Date.now();
    // If this process itself was blocked, the peer's pongs are still unread: give it a fresh window.
    if (now - this.lastTick > 2 * heartbeatMs) this.lastSeen = now;
    this.lastTick = now;
    if (now - this.lastSeen > peerTimeoutMs) {
      const s = ((now - this.lastSeen) / 1000).toFixed(1);
      this.fail({ reason: `rank ${this.peer} did not answer heartbeats for ${s} s (dead or stopped)`, dead: true, local: true });
      return;
    }
    if (this.ws.readyState === 1) this.ws.ping();
  }

  /** Starts delivering messages, as their fragments (including those that arrived before), to `handler`. */
  start(handler: (fragments: Uint8Array[]) => void, onClose: (info: LinkClosed) => void): void {
    this.handler = handler;
    this.closeHandler = onClose;
    const early = this.early;
    this.early = [];
    for (const f of early) handler(f);
    if (this.closedInfo) onClose(this.closedInfo);
  }

  /** Whether this connection alone keeps the process running (its messages are read either way while it runs). */
  holdProcess(hold: boolean): void {
    if (hold) this.socket.ref();
    else this.socket.unref();
  }

  get open(): boolean {
    return this.closedInfo === null && this.ws.readyState === 1;
  }

  /** Sends frames in order, back to back; resolves when all were handed to the kernel. */
  send(frames: Frame | Frame[]): Promise<void> {
    const list = Array.isArray(frames) ? frames : [frames];
    if (!this.open) return Promise.reject(new Error(`the connection to rank ${this.peer} is closed`));
    return new Promise((resolve, reject) => {
      let left = list.length;
      if (left === 0) resolve();
      const done = (err?: Error | null) => {
        if (err) reject(err);
        else if (--left === 0) resolve();
      };
      for (const f of list) {
        if (f instanceof Uint8Array) {
          this.ws.send(f, SEND_OPTS, done);
          continue;
        }
        const parts = f.fragments;
        for (let i = 0; i < parts.length - 1; i++) this.ws.send(parts[i]!, MORE_OPTS);
        this.ws.send(parts[parts.length - 1]!, SEND_OPTS, done);
      }
    });
  }

  private fail(info: LinkClosed, code = 1011): void {
    if (this.closedInfo) return;
    this.pendingReason ??= info;
    try {
      if (info.dead) this.ws.terminate();
      else this.ws.close(code, info.reason.slice(0, 120));
    } catch {
      this.ws.terminate();
    }
    // the close event may never come from a frozen peer: finish now
    if (info.dead) this.finish(info);
  }

  /** Closes the link normally; resolves when closed (terminated after `graceMs`). */
  close(code = 1000, reason = "", graceMs = 1000): Promise<void> {
    if (this.closedInfo) return Promise.resolve();
    this.pendingReason ??= { reason: "closed by this rank", dead: false, local: true };
    return new Promise((resolve) => {
      const t = setTimeout(() => this.ws.terminate(), graceMs);
      this.ws.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      try {
        this.ws.close(code, reason);
      } catch {
        this.ws.terminate();
      }
    });
  }

  terminate(): void {
    this.pendingReason ??= { reason: "closed by this rank", dead: false, local: true };
    this.ws.terminate();
  }

  private finish(info: LinkClosed): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    clearInterval(this.timer);
    this.closeHandler?.(info);
  }
}
