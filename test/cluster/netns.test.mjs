// The cluster over a real network path: the scheduler in one network namespace, a worker beside it and a
// worker in another namespace, joined by a veth pair with addresses this test picks (10.213.77.0/24,
// private to the namespaces). The scheduler listens on the interface named by `host` (its veth), the far
// worker reaches it across the link, outputs and worker-to-worker chunk fetches cross it (counted on the
// veth), and the result has the bits of a local compute. Needs root and iproute2 (`ip netns`); skips
// itself otherwise, unless TESSERA_NETNS=1 (CI), which makes a missing prerequisite a failure.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NDArray, fromArray, random } from "../../dist/index.js";
import { WORKER, sameBits } from "./helpers.mjs";

const INDEX = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const tag = String(process.pid % 100000);
const NS_A = `tsr${tag}a`;
const NS_B = `tsr${tag}b`;
const VETH_A = `tsv${tag}a`;
const VETH_B = `tsv${tag}b`;
const ADDR_A = "10.213.77.1";
const ADDR_B = "10.213.77.2";

function ip(...args) {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr || r.error}`);
  return r.stdout;
}

function skipReason() {
  if (process.getuid?.() !== 0) return "not root (ip netns needs it)";
  if (spawnSync("ip", ["-V"]).status !== 0) return "iproute2 (ip) is not installed";
  return null;
}

function teardown() {
  spawnSync("ip", ["netns", "del", NS_A]);
  spawnSync("ip", ["netns", "del", NS_B]);
}

function setup() {
  teardown();
  process.once("exit", teardown);
  ip("netns", "add", NS_A);
  ip("netns", "add", NS_B);
  ip("link", "add", VETH_A, "type", "veth", "peer", "name", VETH_B);
  ip("link", "set", VETH_A, "netns", NS_A);
  ip("link", "set", VETH_B, "netns", NS_B);
  ip("-n", NS_A, "addr", "add", `${ADDR_A}/24`, "dev", VETH_A);
  ip("-n", NS_B, "addr", "add", `${ADDR_B}/24`, "dev", VETH_B);
  for (const [ns, dev] of [[NS_A, VETH_A], [NS_B, VETH_B]]) {
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "link", "set", dev, "up");
  }
}

const vethBytes = () => {
  const r = (what) => Number(ip("netns", "exec", NS_A, "cat", `/sys/class/net/${VETH_A}/statistics/${what}_bytes`).trim());
  return r("rx") + r("tx");
};

const children = new Set();
function inNs(ns, args, env = {}) {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exit = new Promise((resolve) => child.once("exit", (code) => resolve({ code, out, err })));
  return { child, exit, out: () => out, err: () => err };
}

const SCHEDULER = `
import { LocalCluster, Client, fromArray, random, unique } from ${JSON.stringify(INDEX)};
import { openSync, writeSync, closeSync } from "node:fs";
const [iface, tokenFile] = process.argv.slice(2);
const cluster = await LocalCluster.start({ workers: 0, host: iface, log: (l) => console.error(l) });
const fd = openSync(tokenFile, "w", 0o600);
writeSync(fd, cluster.scheduler.token);
closeSync(fd);
console.log(JSON.stringify({ address: cluster.address }));
await cluster.waitForWorkers(2, 60_000);
const client = await Client.connect(cluster);
const x = random.random([1200, 1200], { chunks: 300, seed: 77 });
// user data: its chunks go from the scheduler to the workers that read them (the far one's across the link)
const d = fromArray(Float64Array.from({ length: 1200 * 1200 }, (_, i) => (i * 7) % 1000), { shape: [1200, 1200], chunks: 300 });
const r = await client.compute(x.add(d.T).mul(0.5).sum({ axis: 0 })).result();
// which worker processes computed blocks: both, the far one across the link
const pids = await unique(x.mapBlocks((b) => b.mul(0).add(process.pid), { trace: false }).astype("int32")); // on the cluster: the client is the default
console.log(JSON.stringify({ pids: [...pids.data], hosts: cluster.workers.length, shape: r.shape, data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString("base64") }));
await client.close();
await cluster.close();
`;

const why = skipReason();
if (why && process.env.TESSERA_NETNS !== "1") {
  console.log(`test/cluster/netns: skipped (${why})`);
} else {
  test("scheduler and a worker in one namespace, a worker in another: the same bits over the veth", async () => {
    if (why) assert.unreachable(`TESSERA_NETNS=1 but ${why}`);
    setup();
    const dir = mkdtempSync(join(tmpdir(), "tessera-netns-"));
    try {
      const script = join(dir, "scheduler.mjs");
      writeFileSync(script, SCHEDULER);
      const tokenFile = join(dir, "token");
      const before = vethBytes();
      const sched = inNs(NS_A, [script, VETH_A, tokenFile]);
      const t0 = Date.now();
      while (!sched.out().includes("\n")) {
        if (Date.now() - t0 > 30_000) assert.unreachable(`the scheduler did not start:\n${sched.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const { address } = JSON.parse(sched.out().split("\n")[0]);
      assert.is(address.replace(/:\d+$/, ""), `ws://${ADDR_A}`, "the scheduler listens on the veth's address");
      const workers = [
        inNs(NS_A, [WORKER, "--scheduler", address, "--token-file", tokenFile, "--nthreads", "1", "--name", "near"]),
        inNs(NS_B, [WORKER, "--scheduler", address, "--token-file", tokenFile, "--nthreads", "1", "--name", "far"]),
      ];
      const res = await Promise.race([sched.exit, new Promise((r) => setTimeout(() => r(null), 90_000))]);
      assert.ok(res, `the scheduler did not finish:\n${sched.err()}`);
      assert.is(res.code, 0, res.err);
      const r = JSON.parse(res.out.trim().split("\n").at(-1));
      assert.is(r.hosts, 2);
      const bytes = Buffer.from(r.data, "base64");
      const got = new NDArray(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8), r.shape, "float64");
      const x = random.random([1200, 1200], { chunks: 300, seed: 77 });
      const d = fromArray(Float64Array.from({ length: 1200 * 1200 }, (_, i) => (i * 7) % 1000), { shape: [1200, 1200], chunks: 300 });
      sameBits(got, await x.add(d.T).mul(0.5).sum({ axis: 0 }).compute({ workers: 1, scheduler: "threads" }), "across namespaces vs local");
      assert.equal(r.pids.sort(), workers.map((w) => w.child.pid).sort(), "both workers computed blocks");
      // the user data's chunks the far worker read (720 KB each), its outputs and messages crossed the link
      const crossed = vethBytes() - before;
      assert.ok(crossed > 720_000, `only ${crossed} bytes crossed the veth`);
      console.log(`  ${(crossed / 1e6).toFixed(1)} MB crossed the veth`);
      for (const w of workers) {
        const e = await Promise.race([w.exit, new Promise((res) => setTimeout(() => res(null), 10_000))]);
        assert.ok(e, "a worker did not stop with its scheduler");
        assert.is(e.code, 0, e.err);
      }
      assert.not.ok(readFileSync(tokenFile, "utf8").length === 0);
    } finally {
      for (const c of children) c.kill("SIGKILL");
      teardown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.run();
}
