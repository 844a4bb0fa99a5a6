/**
 * The dashboard's HTTP server: the page and its assets (bundled in dist/: no CDN), /snapshot (JSON),
 * /metrics (Prometheus text), /health, and the page's WebSocket (/ws), which gets the model a few times a
 * second. It listens on loopback unless told otherwise. Everything but /health needs the token (a query
 * parameter `token`, or `Authorization: Bearer <token>` for scrapers), compared in constant time: without
 * it the answer is 403 and nothing else. /health is open (a liveness probe needs no secret) and says only
 * "ok". The dashboard never keeps the process alive (its server, sockets and timer are unref'd).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./metrics.js";
import type { Model } from "./model.js";

export interface ServeOptions {
  /** address to listen on (default 127.0.0.1; reach it from a laptop with an SSH tunnel) */
  host?: string;
  /** port (default 8787; when taken, a free one); 0: any free port */
  port?: number;
  /** the token (default: 32 random bytes, base64url) */
  token?: string;
  /** how often the model is sampled and pages are updated, ms (default 250) */
  intervalMs?: number;
  /** where the line with the link goes (default stderr); null: nowhere */
  log?: ((line: string) => void) | null;
}

export const DEFAULT_PORT = 8787;
const MAX_CLIENTS = 32;
/** A page that has this much unsent is slow (a stalled tab): it skips updates until it catches up. */
const MAX_BUFFERED = 4 * 2 ** 20;

const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "uPlot.iife.min.js": "text/javascript; charset=utf-8",
  "uPlot.min.css": "text/css; charset=utf-8",
};

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Reads the page's files once (from dist/dashboard/page, where the build puts them). */
function loadAssets(): Map<string, Buffer> {
  const dir = new URL("./page/", import.meta.url);
  const files = new Map<string, Buffer>();
  for (const name of ["index.html", ...Object.keys(ASSETS)]) files.set(name, readFileSync(new URL(name, dir)));
  return files;
}

/**
 * A connected page. It is sent an update every tick until it says "ready" once; from then on it is paced:
 * sent one when it says "ready" again (it is about to draw: an update it would not draw costs both sides
 * for nothing) or at once when the model's state changes (a compute finished, an error).
 */
interface Client {
  since: number;
  memorySince: number;
  paced: boolean;
  ready: boolean;
  stateKey: string;
}

export class DashboardServer {
  readonly token: string;
  private readonly tokenDigest: Buffer;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly clients = new Map<WebSocket, Client>();
  private readonly assets = loadAssets();
  private timer: NodeJS.Timeout | null = null;
  private closed: Promise<void> | null = null;
  host = "";
  port = 0;

  private constructor(
    private readonly model: Model,
    private readonly server: Server,
    token: string,
  ) {
    this.token = token;
    this.tokenDigest = digest(token);
  }

  static async start(model: Model, opts: ServeOptions = {}): Promise<DashboardServer> {
    const server = createServer();
    // the dashboard never keeps a process alive: the compute's end (or the script's) is the process's end
    server.unref();
    server.on("connection", (socket) => socket.unref());
    const token = opts.token ?? randomBytes(32).toString("base64url");
    const d = new DashboardServer(model, server, token);
    server.on("request", (req, res) => d.request(req, res));
    server.on("upgrade", (req, socket, head) => d.upgrade(req, socket, head));
    const host = opts.host ?? "127.0.0.1";
    const want = opts.port ?? DEFAULT_PORT;
    try {
      await listen(server, host, want);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || want === 0) throw e;
      await listen(server, host, 0); // taken (another dashboard?): any free port, said in the link
    }
    const addr = server.address();
    d.host = host;
    d.port = typeof addr === "object" && addr ? addr.port : want;
    model.sample();
    const interval = Math.max(50, opts.intervalMs ?? 250);
    d.timer = setInterval(() => d.tick(), interval);
    d.timer.unref();
    const log = opts.log === undefined ? (l: string) => process.stderr.write(l + "\n") : opts.log;
    log?.(`tessera dashboard: ${d.url}`);
    return d;
  }

  /** The page's link, with its token. */
  get url(): string {
    const shown = this.host === "0.0.0.0" || this.host === "::" ? hostname() : this.host.includes(":") ? `[${this.host}]` : this.host;
    return `http://${shown}:${this.port}/?token=${this.token}`;
  }

  /** Is this the token? (constant time: both sides hashed to the same length first) */
  private allowed(req: IncomingMessage, url: URL): boolean {
    const auth = req.headers.authorization;
    const given = url.searchParams.get("token") ?? (auth?.startsWith("Bearer ") ? auth.slice(7).trim() : null);
    if (given === null) return false;
    return timingSafeEqual(digest(given), this.tokenDigest);
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://dashboard");
    if (url.pathname === "/health") return reply(res, 200, "text/plain; charset=utf-8", "ok\n");
    if (!this.allowed(req, url)) return reply(res, 403, "text/plain; charset=utf-8", "forbidden: this dashboard needs its token (the link it printed)\n");
    if (req.method !== "GET" && req.method !== "HEAD") return reply(res, 405, "text/plain; charset=utf-8", "GET only\n");
    const path = url.pathname;
    if (path === "/" || path === "/index.html") {
      const html = this.assets.get("index.html")!.toString("utf8").replaceAll("__TOKEN__", encodeURIComponent(this.token));
      return reply(res, 200, "text/html; charset=utf-8", html);
    }
    if (path === "/snapshot") return reply(res, 200, "application/json; charset=utf-8", JSON.stringify(this.model.snapshot()));
    if (path === "/metrics") return reply(res, 200, METRICS_CONTENT_TYPE, formatMetrics(this.model.snapshot()));
    const asset = path.startsWith("/assets/") ? path.slice(8) : "";
    const type = Object.hasOwn(ASSETS, asset) ? ASSETS[asset] : undefined;
    if (type) return reply(res, 200, type, this.assets.get(asset)!);
    return reply(res, 404, "text/plain; charset=utf-8", "not found\n");
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://dashboard");
    const refuse = (code: number, why: string) => {
      socket.end(`HTTP/1.1 ${code} ${why}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      socket.destroy();
    };
    if (!this.allowed(req, url)) return refuse(403, "Forbidden");
    if (url.pathname !== "/ws") return refuse(404, "Not Found");
    if (this.clients.size >= MAX_CLIENTS || this.closed) return refuse(503, "Service Unavailable");
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Client = { since: 0, memorySince: 0, paced: false, ready: false, stateKey: "" };
      this.clients.set(ws, c);
      ws.on("message", (data, isBinary) => {
        // "ready": the page will draw again soon and wants the update for it (see Client)
        if (!isBinary && data.toString() === "ready") c.paced = c.ready = true;
      });
      ws.on("close", () => this.clients.delete(ws));
      ws.on("error", () => ws.terminate());
      this.push(ws, c);
    });
  }

  private ticks = 0;
  private tick(): void {
    this.model.sample();
    // while nothing runs, pages get an update a second (heartbeats, CPU) rather than every tick
    const idle = !this.model.active && this.ticks++ % 4 !== 0;
    for (const [ws, c] of this.clients) {
      const due = c.paced ? c.ready || c.stateKey !== this.model.stateKey : !idle || c.since !== this.model.stream.lastSeq;
      if (due) this.push(ws, c);
    }
  }

  /** What a page has not had yet: the model with the bars and memory points newer than its last ones. */
  private push(ws: WebSocket, c: Client): void {
    if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_BUFFERED) return;
    c.ready = false;
    c.stateKey = this.model.stateKey;
    const s = this.model.snapshot({ since: c.since, memorySince: c.memorySince });
    c.since = s.stream.seq;
    const last = s.memory.at(-1);
    if (last) c.memorySince = last.t;
    ws.send(JSON.stringify(s));
  }

  /** Pages connected now. */
  get clientCount(): number {
    return this.clients.size;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      for (const ws of this.clients.keys()) ws.terminate();
      this.clients.clear();
      this.wss.close();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      });
    })();
    return this.closed;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off("listening", onListening);
      reject(e);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

function reply(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
