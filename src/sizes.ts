/**
 * Sizes and durations as people write them in options, on command lines and in job scripts, parsed in one
 * place. Units are stated, never guessed: "10 GB" is 10^9-byte gigabytes and "10 GiB" 2^30-byte gibibytes
 * (a bare "10G" is refused: SLURM reads it as GiB, dask as GB, and a user should not have to know which).
 */
import { invalid, show } from "./errors.js";

const BYTE_UNITS: Record<string, number> = {
  "": 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};

/** Bytes from a number of bytes or a string such as "512MiB", "10 GB", "2.5GiB". */
export function parseSize(v: unknown, what: string): number {
  if (typeof v === "number") {
    if (Number.isFinite(v) && v >= 0) return Math.floor(v);
  } else if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([KMGT]i?B|B|)\s*$/.exec(v);
    const unit = m ? BYTE_UNITS[m[2]!] : undefined;
    if (m && unit !== undefined) return Math.floor(Number(m[1]) * unit);
  }
  throw invalid(
    "INVALID_ARGUMENT",
    `${what} ${show(v)} must be bytes or a size with its unit: "512MiB", "10GB" (10^9 bytes) or "10GiB" (2^30 bytes)`,
  );
}

/** A size as a short readable string in binary units ("1.5GiB", "512MiB", "100B"). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) {
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : Number(v.toFixed(2))}${unit}`;
    }
  }
  return `${bytes}B`;
}

/**
 * SLURM's --mem and --mem-per-cpu value for `bytes`, rounded up (SLURM's K, M, G are binary; it has no
 * bytes): 10 GB (9.31 GiB) becomes 10G, 32 GB becomes 30G, as dask-jobqueue writes them.
 */
export function slurmMemory(bytes: number): string {
  for (const [unit, size] of [["T", 2 ** 40], ["G", 2 ** 30], ["M", 2 ** 20]] as const) {
    if (bytes >= size) return `${Math.ceil(bytes / size)}${unit}`;
  }
  return `${Math.max(1, Math.ceil(bytes / 1024))}K`;
}

/**
 * Seconds from a number of seconds or a string: "90", "90s", "55m", "2h", or SLURM's time formats
 * ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS"; a bare number in `slurm` style is minutes).
 */
export function parseDuration(v: unknown, what: string, style: "seconds" | "slurm" = "seconds"): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === "string") {
    const s = v.trim();
    const unit = /^(\d+(?:\.\d+)?)\s*(s|m|h)$/.exec(s);
    if (unit) return Number(unit[1]) * { s: 1, m: 60, h: 3600 }[unit[2] as "s" | "m" | "h"];
    const days = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(s);
    if (days) return Number(days[1]) * 86400 + Number(days[2]) * 3600 + Number(days[3] ?? 0) * 60 + Number(days[4] ?? 0);
    const clock = /^(\d+)(?::(\d+))?(?::(\d+))?$/.exec(s);
    if (clock) {
      const parts = [clock[1], clock[2], clock[3]].filter((p) => p !== undefined).map(Number);
      if (parts.length === 3) return parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
      if (parts.length === 2) return parts[0]! * 60 + parts[1]!;
      return style === "slurm" ? parts[0]! * 60 : parts[0]!;
    }
  }
  throw invalid(
    "INVALID_ARGUMENT",
    style === "slurm"
      ? `${what} ${show(v)} must be a time SLURM reads: "HH:MM:SS", "D-HH:MM:SS", "MM:SS", minutes, or with s, m or h ("55m")`
      : `${what} ${show(v)} must be a duration: seconds, or with s, m or h ("90s", "55m", "2h")`,
  );
}

/** SLURM's time format for `seconds`: "HH:MM:SS", or "D-HH:MM:SS" from a day on. */
export function slurmTime(seconds: number): string {
  const s = Math.ceil(seconds);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((n) => String(n).padStart(2, "0")).join(":");
  return d > 0 ? `${d}-${hms}` : hms;
}
