/**
 * The zip container of .npz files, read in place: the central directory at the end of the file lists
 * each member's name, compression method, sizes and where its local header is; the member's data follows
 * that header. Zip64 (numpy's savez always writes it: `force_zip64=True`) gives the sizes and offsets
 * past 4 GiB in an extra field. Nothing of a member is read here but its local header: members are read
 * by byte ranges (stored) or streamed through inflate (deflated), per task.
 *
 * Parsed here rather than with a zip library: fflate and the like take the whole archive in memory (or
 * stream it from its first byte), which is what reading a member chunk by chunk must avoid.
 */
import { readSync } from "node:fs";
import { TesseraError, show } from "../errors.js";

export interface ZipMember {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

const bad = (path: string, why: string): never => {
  throw new TesseraError("FORMAT_ERROR", `${path} is not a valid .npz (zip) file: ${why}`);
};

function readAt(fd: number, at: number, n: number, path: string): Buffer {
  const buf = Buffer.alloc(n);
  let done = 0;
  while (done < n) {
    const k = readSync(fd, buf, done, n - done, at + done);
    if (k === 0) bad(path, `it ends at byte ${at + done}, inside a record that needs ${n} bytes from byte ${at} (truncated?)`);
    done += k;
  }
  return buf;
}

const u64 = (b: Buffer, at: number): number => {
  const v = b.readBigUInt64LE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
};

/** The members of the zip file open as `fd` (`size` bytes), in the order of its central directory. */
export function readZipDirectory(fd: number, size: number, path: string): ZipMember[] {
  if (size < 22) bad(path, `it holds ${size} bytes, fewer than a zip's end record`);
  // the end record: 22 bytes and a comment of up to 65535, at the very end
  const tailLen = Math.min(size, 22 + 65535);
  const tail = readAt(fd, size - tailLen, tailLen, path);
  let e = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tailLen) {
      e = i;
      break;
    }
  }
  if (e < 0) bad(path, "no end-of-central-directory record (not a zip, or truncated)");
  let count = tail.readUInt16LE(e + 10);
  let cdSize = tail.readUInt32LE(e + 12);
  let cdOffset = tail.readUInt32LE(e + 16);
  const eocdAt = size - tailLen + e;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdAt < 20) bad(path, "a zip64 end record is announced but missing");
    const loc = readAt(fd, eocdAt - 20, 20, path);
    if (loc.readUInt32LE(0) !== ZIP64_LOCATOR) bad(path, "the zip64 end-record locator is missing");
    const z = readAt(fd, u64(loc, 8), 56, path);
    if (z.readUInt32LE(0) !== ZIP64_EOCD) bad(path, "the zip64 end record is missing");
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (!(cdOffset + cdSize <= size)) bad(path, `its central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the file (truncated?)`);
  const cd = readAt(fd, cdOffset, cdSize, path);
  const members: ZipMember[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) bad(path, `central directory entry ${i} is damaged`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) bad(path, `central directory entry ${i} runs past the directory`);
    const name = cd.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? "utf8" : "latin1");
    // zip64 extra field (id 1): the 8-byte values of the fields that are 0xffffffff, in this order
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 1) {
        let q = x + 4;
        const next = (): number => {
          if (q + 8 > x + 4 + len) bad(path, `the zip64 field of ${show(name)} is too short`);
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      x += 4 + len;
    }
    members.push({ name, method, flags, compressedSize, size: usize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return members;
}

/** Where a member's data starts: after its local header (whose name and extra field may differ from the central entry's). */
export function memberDataOffset(fd: number, m: ZipMember, fileSize: number, path: string): number {
  const h = readAt(fd, m.localHeaderOffset, 30, path);
  if (h.readUInt32LE(0) !== LOCAL) bad(path, `the local header of ${show(m.name)} is missing at byte ${m.localHeaderOffset}`);
  const start = m.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
  if (!(start + m.compressedSize <= fileSize)) {
    bad(path, `member ${show(m.name)} needs ${m.compressedSize} bytes from byte ${start}, past the end of the file (truncated?)`);
  }
  return start;
}
