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
  AuthChallenge,
  AuthProof,
  Body,
  Cluster,
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
import { MAX_SHAPE_DIMS, PAYLOAD_SLOT, ProtocolError, verifyMessage } from "./verify.js";

export { CollOp, DType, ReduceOp, ProtocolError };

/** 2: the token is proven by challenge-response (AuthChallenge, AuthProof), never sent; 1 sent it in the Hello. */
export const PROTOCOL_VERSION = 2;

/** The connecting rank's first frame: who it is and its fresh nonce (no secret). */
export interface HelloMsg {
  kind: "hello";
  version: number;
  rank: number;
  size: number;
  host: string;
  port: number;
  job: string;
  nonce: Uint8Array;
}
/** The listening rank's answer to a Hello: its rank and its own fresh nonce. */
export interface AuthChallengeMsg {
  kind: "challenge";
  rank: number;
  nonce: Uint8Array;
}
/** A proof of the token over the handshake (see transport/auth.ts); from the listener, maybe a refusal. */
export interface AuthProofMsg {
  kind: "proof";
  proof: Uint8Array;
  refusal: string;
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
  /** the code every rank fails with (absent or "": RANK_LOST naming `rank`) */
  code?: string;
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
/**
 * A cluster message: its header is the message as JSON (typed by the cluster layer, cluster/messages.ts),
 * its payload the bytes it carries (a data message, like Collective and PointToPoint: see encodeHead).
 */
export interface ClusterMsg {
  kind: "cluster";
  header: string;
  payload: Uint8Array;
}
export type Msg =
  | HelloMsg
  | AuthChallengeMsg
  | AuthProofMsg
  | AddressTableMsg
  | CollectiveMsg
  | PointToPointMsg
  | HeartbeatMsg
  | AbortMsg
  | GoodbyeMsg
  | FingerprintMsg
  | ClusterMsg;

/** The messages whose payload is raw bytes placed last in the frame (a head + payload in two fragments). */
export type DataMsg = CollectiveMsg | PointToPointMsg | ClusterMsg;
const isData = (m: Msg): m is DataMsg => m.kind === "collective" || m.kind === "p2p" || m.kind === "cluster";

const EMPTY = new Uint8Array(0);

/** Adds a byte vector whose data starts 8-byte aligned in the finished buffer. */
function bytesVector(b: flatbuffers.Builder, bytes: Uint8Array): flatbuffers.Offset {
  b.prep(8, bytes.length);
  return b.createByteVector(bytes);
}

function shapeVector(b: flatbuffers.Builder, shape: number[]): flatbuffers.Offset {
  if (shape.length > MAX_SHAPE_DIMS) throw new RangeError(`a shape of ${shape.length} dimensions (at most ${MAX_SHAPE_DIMS})`);
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
  const data = isData(msg);
  const payloadLen = data ? msg.payload.length : 0;
  if (data && payloadLen + 512 <= SMALL_FRAME) return buildShared(msg, false);
  return build(new flatbuffers.Builder(payloadLen + 256), msg);
}

/** Builds a small frame in the shared builder and copies it out into pooled memory. */
function buildShared(msg: Msg, external: boolean): Buffer {
  const b = (shared ??= new flatbuffers.Builder(SMALL_FRAME));
  b.clear();
  const built = build(b, msg, external);
  const out = Buffer.allocUnsafe(built.length);
  out.set(built);
  return out;
}

/**
 * The frame of a data message without its payload's bytes: the head ends (8-byte aligned) exactly where the
 * payload's bytes begin, so head + payload is one well-formed Message, the same one `encode` describes. A
 * large payload is then sent as the second fragment of one WebSocket message, from where it lies, without
 * being copied into a frame; `decodeFragments` reads it back without joining the two.
 */
export function encodeHead(msg: DataMsg): Uint8Array {
  const n = msg.payload.length;
  if (n > 0xffffffff) throw new RangeError(`a payload of ${n} bytes is over the 4 GiB a frame can carry`);
  const out = buildShared(msg, true);
  // the payload vector was written first, so it is last: its length field is the head's last 4 bytes
  out.writeUInt32LE(n, out.length - 4);
  return out;
}

/** The payload vector, empty, 8-byte aligned and last in the frame (its length is patched in by encodeHead). */
function payloadVector(b: flatbuffers.Builder, bytes: Uint8Array, external: boolean): flatbuffers.Offset {
  if (!external) return bytesVector(b, bytes);
  b.startVector(1, 0, 8);
  return b.endVector();
}

function build(b: flatbuffers.Builder, msg: Msg, external = false): Uint8Array {
  switch (msg.kind) {
    case "hello": {
      const nonce = Hello.createNonceVector(b, msg.nonce);
      const host = b.createString(msg.host);
      const job = b.createString(msg.job);
      return finish(b, Body.Hello, Hello.createHello(b, msg.version, msg.rank, msg.size, host, msg.port, job, nonce));
    }
    case "challenge":
      return finish(b, Body.AuthChallenge, AuthChallenge.createAuthChallenge(b, msg.rank, AuthChallenge.createNonceVector(b, msg.nonce)));
    case "proof": {
      const proof = AuthProof.createProofVector(b, msg.proof);
      const refusal = msg.refusal ? b.createString(msg.refusal) : 0;
      return finish(b, Body.AuthProof, AuthProof.createAuthProof(b, proof, refusal));
    }
    case "addresses": {
      const entries = msg.entries.map((e) => AddressEntry.createAddressEntry(b, e.rank, b.createString(e.host), e.port));
      const vec = AddressTable.createEntriesVector(b, entries);
      return finish(b, Body.AddressTable, AddressTable.createAddressTable(b, msg.size, vec));
    }
    case "collective": {
      const payload = payloadVector(b, msg.payload, external);
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
      const payload = payloadVector(b, msg.payload, external);
      const shape = msg.shape.length > 0 ? shapeVector(b, msg.shape) : 0;
      const body = PointToPoint.createPointToPoint(
        b, msg.src, msg.dst, msg.tag, msg.seq, msg.dtype, shape, BigInt(msg.offset), BigInt(msg.total), payload,
      );
      return finish(b, Body.PointToPoint, body);
    }
    case "heartbeat":
      return finish(b, Body.Heartbeat, Heartbeat.createHeartbeat(b, msg.time));
    case "abort":
      return finish(b, Body.Abort, Abort.createAbort(b, msg.rank, b.createString(msg.reason), msg.code ? b.createString(msg.code) : 0));
    case "goodbye":
      return finish(b, Body.Goodbye, Goodbye.createGoodbye(b, msg.rank));
    case "fingerprint":
      return finish(
        b,
        Body.GraphFingerprint,
        GraphFingerprint.createGraphFingerprint(b, msg.rank, msg.seq, b.createString(msg.fingerprint)),
      );
    case "cluster": {
      const payload = payloadVector(b, msg.payload, external);
      return finish(b, Body.Cluster, Cluster.createCluster(b, b.createString(msg.header), payload));
    }
  }
}

function shapeOf(get: (i: number) => bigint | null, n: number): number[] {
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(get(i) ?? 0n);
  return out;
}

/**
 * Decodes a frame. Payloads are views into `bytes` (no copy). Throws ProtocolError on a frame that is not
 * a tessera message (too short, unknown body, any offset or length outside the frame: verify.ts checks the
 * whole frame before the generated accessors read it).
 */
export function decode(bytes: Uint8Array): Msg {
  return decodeWith(bytes, null);
}

class NotSplit extends Error {}

/**
 * Decodes a message that arrived in several WebSocket fragments. When the first is the head of a data
 * message whose payload is exactly the rest (what `encodeHead` + payload makes), the payload is the rest
 * itself (no join); otherwise the fragments are joined and decoded as one frame.
 */
export function decodeFragments(frags: Uint8Array[]): Msg {
  if (frags.length === 1) return decode(frags[0]!);
  const rest = frags.length === 2 ? frags[1]! : join(frags.slice(1));
  try {
    return decodeWith(frags[0]!, rest);
  } catch {
    return decode(join(frags)); // not a head + payload: one frame in pieces (or malformed, which decode reports)
  }
}

function join(frags: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const f of frags) n += f.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const f of frags) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/**
 * The payload of a table whose payload vector (vtable slot `slot`) lies outside `head`, in `tail`: it must
 * start where the head ends and be exactly as long as the tail (the verifier checked everything else lies
 * within the head).
 */
function tailPayload(bb: flatbuffers.ByteBuffer, pos: number, slot: number, head: Uint8Array, tail: Uint8Array): Uint8Array {
  const o = bb.__offset(pos, slot);
  if (!o) throw new NotSplit();
  if (bb.__vector(pos + o) !== head.length || bb.__vector_len(pos + o) !== tail.length) throw new NotSplit();
  return tail;
}

/**
 * The payload vector (vtable slot `slot`) of a table in `frame`, checked to lie within the frame: the
 * generated accessor would make a view from the length field alone, and a frame is often a slice of a
 * larger socket buffer, so a wrong length must not expose the bytes next to it.
 */
function framePayload(bb: flatbuffers.ByteBuffer, pos: number, slot: number, frame: Uint8Array): Uint8Array {
  const o = bb.__offset(pos, slot);
  if (!o) return EMPTY;
  const start = bb.__vector(pos + o);
  const len = bb.__vector_len(pos + o);
  if (start < 0 || len < 0 || start + len > frame.length) {
    throw new ProtocolError(`a payload of ${len} bytes at offset ${start} overruns its ${frame.length}-byte frame`);
  }
  return new Uint8Array(frame.buffer, frame.byteOffset + start, len); // a plain view even when frame is a Buffer
}

function decodeWith(bytes: Uint8Array, tail: Uint8Array | null): Msg {
  if (bytes.length < 12) throw new ProtocolError(`a frame of ${bytes.length} bytes is too short for a message`);
  if (tail && !PAYLOAD_SLOT[verifyMessage(bytes, true)]) throw new NotSplit();
  if (!tail) verifyMessage(bytes);
  try {
    const bb = new flatbuffers.ByteBuffer(bytes);
    const m = Message.getRootAsMessage(bb);
    const body = m.bodyType();
    switch (body) {
      case Body.Hello: {
        const h = m.body(new Hello()) as Hello;
        return {
          kind: "hello", version: h.version(), rank: h.rank(), size: h.size(),
          host: h.host() ?? "", port: h.port(), job: h.job() ?? "", nonce: h.nonceArray()?.slice() ?? EMPTY,
        };
      }
      case Body.AuthChallenge: {
        const c = m.body(new AuthChallenge()) as AuthChallenge;
        return { kind: "challenge", rank: c.rank(), nonce: c.nonceArray()?.slice() ?? EMPTY };
      }
      case Body.AuthProof: {
        const p = m.body(new AuthProof()) as AuthProof;
        return { kind: "proof", proof: p.proofArray()?.slice() ?? EMPTY, refusal: p.refusal() ?? "" };
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
          offset: Number(c.offset()), total: Number(c.total()), parts,
          payload: tail ? tailPayload(c.bb!, c.bb_pos, 28, bytes, tail) : framePayload(c.bb!, c.bb_pos, 28, bytes),
        };
      }
      case Body.PointToPoint: {
        const c = m.body(new PointToPoint()) as PointToPoint;
        return {
          kind: "p2p", src: c.src(), dst: c.dst(), tag: c.tag(), seq: c.seq(), dtype: c.dtype(),
          shape: shapeOf((i) => c.shape(i), c.shapeLength()), offset: Number(c.offset()), total: Number(c.total()),
          payload: tail ? tailPayload(c.bb!, c.bb_pos, 20, bytes, tail) : framePayload(c.bb!, c.bb_pos, 20, bytes),
        };
      }
      case Body.Heartbeat:
        return { kind: "heartbeat", time: (m.body(new Heartbeat()) as Heartbeat).time() };
      case Body.Abort: {
        const a = m.body(new Abort()) as Abort;
        const code = a.code();
        return code ? { kind: "abort", rank: a.rank(), reason: a.reason() ?? "", code } : { kind: "abort", rank: a.rank(), reason: a.reason() ?? "" };
      }
      case Body.Goodbye:
        return { kind: "goodbye", rank: (m.body(new Goodbye()) as Goodbye).rank() };
      case Body.GraphFingerprint: {
        const g = m.body(new GraphFingerprint()) as GraphFingerprint;
        return { kind: "fingerprint", rank: g.rank(), seq: g.seq(), fingerprint: g.fingerprint() ?? "" };
      }
      case Body.Cluster: {
        const c = m.body(new Cluster()) as Cluster;
        return {
          kind: "cluster", header: c.header() ?? "",
          payload: tail ? tailPayload(c.bb!, c.bb_pos, 6, bytes, tail) : framePayload(c.bb!, c.bb_pos, 6, bytes),
        };
      }
      default:
        throw new ProtocolError(`unknown message body type ${m.bodyType()}`);
    }
  } catch (e) {
    if (e instanceof ProtocolError || e instanceof NotSplit) throw e;
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
