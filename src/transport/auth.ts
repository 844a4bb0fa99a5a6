/** Tokens: fresh random secrets, compared in constant time. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A fresh token: 32 random bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString("hex");
}

/** Constant-time comparison (both sides hashed first, so their lengths do not leak either). */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
