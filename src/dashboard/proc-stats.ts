/**
 * CPU and resident memory of a process: this one from Node (every thread counts), another one on this
 * machine from Linux's /proc (a cluster's worker processes). CPU is in percent of one core over the time
 * since the previous reading (200: two cores busy); null where it cannot be read.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux Node runs on
let pageSize = 0;
/**
 * This machine's page size (statm counts pages), found once: this process's resident bytes (Node's) over
 * its resident pages (statm's), the nearest of the sizes Linux uses (4, 16, 64 KiB).
 */
function pageBytes(): number {
  if (pageSize) return pageSize;
  pageSize = 4096;
  try {
    const pages = Number(readFileSync("/proc/self/statm", "utf8").split(" ")[1]);
    const ratio = process.memoryUsage.rss() / pages;
    if (ratio > 0) pageSize = [4096, 16384, 65536].reduce((a, b) => (Math.abs(Math.log(b / ratio)) < Math.abs(Math.log(a / ratio)) ? b : a));
  } catch {
    /* no /proc: 4 KiB */
  }
  return pageSize;
}

export interface ProcReading {
  cpu: number | null;
  rss: number | null;
}

/** This process. */
export class SelfMeter {
  private last = { usage: process.cpuUsage(), at: performance.now() };

  read(): ProcReading {
    const usage = process.cpuUsage();
    const at = performance.now();
    const busyUs = usage.user - this.last.usage.user + usage.system - this.last.usage.system;
    const wallMs = at - this.last.at;
    let cpu: number | null = null;
    if (wallMs >= 50) {
      cpu = (busyUs / 1000 / wallMs) * 100;
      this.last = { usage, at };
    } else if (this.cached) cpu = this.cached.cpu;
    const reading = { cpu, rss: process.memoryUsage.rss() };
    this.cached = reading;
    return reading;
  }
  private cached: ProcReading | null = null;
}

/** Other processes of this machine, by pid. */
export class ProcMeter {
  private readonly last = new Map<number, { ticks: number; at: number; cpu: number | null }>();

  read(pid: number): ProcReading {
    let stat: string;
    let statm: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      statm = readFileSync(`/proc/${pid}/statm`, "utf8");
    } catch {
      this.last.delete(pid);
      return { cpu: null, rss: null };
    }
    // fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    const at = performance.now();
    const prev = this.last.get(pid);
    let cpu: number | null = prev?.cpu ?? null;
    if (!prev || at - prev.at >= 50) {
      if (prev) cpu = (((ticks - prev.ticks) / TICKS_PER_SECOND) * 1000 * 100) / (at - prev.at);
      this.last.set(pid, { ticks, at, cpu });
    }
    const rss = Number(statm.split(" ")[1]) * pageBytes();
    return { cpu, rss: Number.isFinite(rss) ? rss : null };
  }

  /** Forgets processes not in `pids` (workers that left). */
  keep(pids: ReadonlySet<number>): void {
    for (const pid of this.last.keys()) if (!pids.has(pid)) this.last.delete(pid);
  }
}
