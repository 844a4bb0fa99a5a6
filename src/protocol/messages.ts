/**
 * Typed encode/decode of tessera's wire messages (schema: tessera.fbs, code: generated/ by flatc).
 * One Message per WebSocket binary frame. Payloads are raw bytes placed 8-byte aligned in the frame, so a
 * receiver can view them as a Float64Array without copying when the frame itself is 8-byte aligned.
 */
import * as flatbuffers from "flatbuffers";
import {
  Abort,
  AddressEntry,
  AddressTable,
  Body,
  CollOp,
  Collective,
  DType,
  Goodbye,
  GraphFingerprint,
  Heartbeat,
  Hello,
  Message,
  Part,
  PointToPoint,
  ReduceOp,
} from "./generated/tessera_generated.js";

export { CollOp, DType, ReduceOp };

export const PROTOCOL_VERSION = 1;

export interface HelloMsg {
  kind: "hello";
  version: number;
  rank: number;
  size: number;
  token: string;
  host: string;
  port: number;
  job: string;
}
export interface AddressEntryInfo {
  rank: number;
  host: string;
  port: number;
}
export interface AddressTableMsg {
  kind: "addresses";
  size: number;
  entries: AddressEntryInfo[];
}
export interface PartInfo {
  rank: number;
  dtype: DType;
  offset: number;
  length: number;
}
export interface CollectiveMsg {
  kind: "collective";
  op: CollOp;
  tag: number;
  seq: number;
  root: number;
  step: number;
  src: number;
  reduce: ReduceOp;
  dtype: DType;
  shape: number[];
  offset: number;
  total: number;
  parts: PartInfo[];
  payload: Uint8Array;
}
export interface PointToPointMsg {
  kind: "p2p";
  src: number;
  dst: number;
  tag: number;
  seq: number;
  dtype: DType;
  shape: number[];
  offset: number;
  total: number;
  payload: Uint8Array;
}
export interface HeartbeatMsg {
  kind: "heartbeat";
  time: number;
}
export interface AbortMsg {
  kind: "abort";
  rank: number;
  reason: string;
}
export interface GoodbyeMsg {
  kind: "goodbye";
  rank: number;
}
export interface FingerprintMsg {
  kind: "fingerprint";
  rank: number;
  seq: number;
  fingerprint: string;
}
export type Msg =
  | HelloMsg
  | AddressTableMsg
  | CollectiveMsg
  | PointToPointMsg
  | HeartbeatMsg
  | AbortMsg
  | GoodbyeMsg
  | FingerprintMsg;

const EMPTY = new Uint8Array(0);

/** Adds a byte vector whose data starts 8-byte aligned in the finished buffer. */
function bytesVector(b: flatbuffers.Builder, bytes: Uint8Array): flatbuffers.Offset {
  b.prep(8, bytes.length);
  return b.createByteVector(bytes);
}

function shapeVector(b: flatbuffers.Builder, shape: number[]): flatbuffers.Offset {
  return Collective.createShapeVector(b, shape.map((n) => BigInt(n)));
}

function finish(b: flatbuffers.Builder, type: Body, body: flatbuffers.Offset): Uint8Array {
  b.finish(Message.createMessage(b, type, body));
  return b.asUint8Array();
}

/** Frames up to this size are built in one shared builder and copied out into pooled memory. */
const SMALL_FRAME = 2048;
let shared: flatbuffers.Builder | null = null;

/**
 * Encodes a message into a new frame (the payload is copied once, into the frame). A small data frame is built
 * in one reused builder (a fresh builder costs an ArrayBuffer and a TextEncoder) and copied into memory
 * from Node's Buffer pool; either way the frame starts 8-byte aligned, so its payload stays aligned.
 */
export function encode(msg: Msg): Uint8Array {
  const data = msg.kind === "collective" || msg.kind === "p2p";
  const payloadLen = data ? msg.payload.length : 0;
  if (data && payloadLen + 512 <= SMALL_FRAME) {
    const b = (shared ??= new flatbuffers.Builder(SMALL_FRAME));
    b.clear();
    const built = build(b, msg);
    const out = Buffer.allocUnsafe(built.length);
    out.set(built);
    return out;
  }
  return build(new flatbuffers.Builder(payloadLen + 256), msg);
}

function build(b: flatbuffers.Builder, msg: Msg): Uint8Array {
  switch (msg.kind) {
    case "hello": {
      const token = b.createString(msg.token);
      const host = b.createString(msg.host);
      const job = b.createString(msg.job);
      Hello.startHello(b);
      Hello.addVersion(b, msg.version);
      Hello.addRank(b, msg.rank);
      Hello.addSize(b, msg.size);
      Hello.addToken(b, token);
      Hello.addHost(b, host);
      Hello.addPort(b, msg.port);
      Hello.addJob(b, job);
      return finish(b, Body.Hello, Hello.endHello(b));
    }
    case "addresses": {
      const entries = msg.entries.map((e) => AddressEntry.createAddressEntry(b, e.rank, b.createString(e.host), e.port));
      const vec = AddressTable.createEntriesVector(b, entries);
      return finish(b, Body.AddressTable, AddressTable.createAddressTable(b, msg.size, vec));
    }
    case "collective": {
      const payload = bytesVector(b, msg.payload);
      let parts = 0;
      if (msg.parts.length > 0) {
        Collective.startPartsVector(b, msg.parts.length);
        for (let i = msg.parts.length - 1; i >= 0; i--) {
          const p = msg.parts[i]!;
          Part.createPart(b, p.rank, p.dtype, BigInt(p.offset), BigInt(p.length));
        }
        parts = b.endVector();
      }
      const shape = msg.shape.length > 0 ? shapeVector(b, msg.shape) : 0;
      const body = Collective.createCollective(
        b, msg.op, msg.tag, msg.seq, msg.root, msg.step, msg.src, msg.reduce, msg.dtype, shape,
        BigInt(msg.offset), BigInt(msg.total), parts, payload,
      );
      return finish(b, Body.Collective, body);
    }
    case "p2p": {
      const payload = bytesVector(b, msg.payload);
      const shape = msg.shape.length > 0 ? PointToPoint.createShapeVector(b, msg.shape.map((n) => BigInt(n))) : 0;
      const body = PointToPoint.createPointToPoint(
        b, msg.src, msg.dst, msg.tag, msg.seq, msg.dtype, shape, BigInt(msg.offset), BigInt(msg.total), payload,
      );
      return finish(b, Body.PointToPoint, body);
    }
    case "heartbeat":
      return finish(b, Body.Heartbeat, Heartbeat.createHeartbeat(b, msg.time));
    case "abort":
      return finish(b, Body.Abort, Abort.createAbort(b, msg.rank, b.createString(msg.reason)));
    case "goodbye":
      return finish(b, Body.Goodbye, Goodbye.createGoodbye(b, msg.rank));
    case "fingerprint":
      return finish(
        b,
        Body.GraphFingerprint,
        GraphFingerprint.createGraphFingerprint(b, msg.rank, msg.seq, b.createString(msg.fingerprint)),
      );
  }
}

export class ProtocolError extends Error {}

function shapeOf(get: (i: number) => bigint | null, n: number): number[] {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(get(i) ?? 0n);
  return out;
}

/**
 * Decodes a frame. Payloads are views into `bytes` (no copy). Throws ProtocolError on a frame that is not
 * a tessera message (too short, unknown body, out-of-range offsets).
 */
export function decode(bytes: Uint8Array): Msg {
  if (bytes.length < 12) throw new ProtocolError(`a frame of ${bytes.length} bytes is too short for a message`);
  try {
    const bb = new flatbuffers.ByteBuffer(bytes);
    const m = Message.getRootAsMessage(bb);
    switch (m.bodyType()) {
      case Body.Hello: {
        const h = m.body(new Hello()) as Hello;
        return {
          kind: "hello", version: h.version(), rank: h.rank(), size: h.size(), token: h.token() ?? "",
          host: h.host() ?? "", port: h.port(), job: h.job() ?? "",
        };
      }
      case Body.AddressTable: {
        const t = m.body(new AddressTable()) as AddressTable;
        const entries: AddressEntryInfo[] = [];
        for (let i = 0; i < t.entriesLength(); i++) {
          const e = t.entries(i)!;
          entries.push({ rank: e.rank(), host: e.host() ?? "", port: e.port() });
        }
        return { kind: "addresses", size: t.size(), entries };
      }
      case Body.Collective: {
        const c = m.body(new Collective()) as Collective;
        const parts: PartInfo[] = [];
        const p = new Part();
        for (let i = 0; i < c.partsLength(); i++) {
          c.parts(i, p);
          parts.push({ rank: p.rank(), dtype: p.dtype(), offset: Number(p.offset()), length: Number(p.length()) });
        }
        return {
          kind: "collective", op: c.op(), tag: c.tag(), seq: c.seq(), root: c.root(), step: c.step(), src: c.src(),
          reduce: c.reduce(), dtype: c.dtype(), shape: shapeOf((i) => c.shape(i), c.shapeLength()),
          offset: Number(c.offset()), total: Number(c.total()), parts, payload: c.payloadArray() ?? EMPTY,
        };
      }
      case Body.PointToPoint: {
        const c = m.body(new PointToPoint()) as PointToPoint;
        return {
          kind: "p2p", src: c.src(), dst: c.dst(), tag: c.tag(), seq: c.seq(), dtype: c.dtype(),
          shape: shapeOf((i) => c.shape(i), c.shapeLength()), offset: Number(c.offset()), total: Number(c.total()),
          payload: c.payloadArray() ?? EMPTY,
        };
      }
      case Body.Heartbeat:
        return { kind: "heartbeat", time: (m.body(new Heartbeat()) as Heartbeat).time() };
      case Body.Abort: {
        const a = m.body(new Abort()) as Abort;
        return { kind: "abort", rank: a.rank(), reason: a.reason() ?? "" };
      }
      case Body.Goodbye:
        return { kind: "goodbye", rank: (m.body(new Goodbye()) as Goodbye).rank() };
      case Body.GraphFingerprint: {
        const g = m.body(new GraphFingerprint()) as GraphFingerprint;
        return { kind: "fingerprint", rank: g.rank(), seq: g.seq(), fingerprint: g.fingerprint() ?? "" };
      }
      default:
        throw new ProtocolError(`unknown message body type ${m.bodyType()}`);
    }
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`a malformed message (${(e as Error).message})`);
  }
}

/** Bytes per element of a typed-array dtype (0 for the others). */
export function dtypeSize(d: DType): number {
  switch (d) {
    case DType.Float64:
    case DType.Number:
      return 8;
    case DType.Float32:
    case DType.Int32:
      return 4;
    case DType.Uint8:
      return 1;
    default:
      return 0;
  }
}
