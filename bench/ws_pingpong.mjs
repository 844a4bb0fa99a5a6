// The floor under tessera's small-message latency: a round trip of an 8-byte binary frame between two node
// processes over loopback with the same `ws` library (no auth, no flatbuffers, no collectives).
//
//   node bench/ws_pingpong.mjs [ITERS=1000] [WARMUP=200]
//
// Prints one JSON line: median and mean round-trip time in µs. A 2-rank allreduce is one exchange (both send,
// both receive), so its latency is at least about half of this round trip plus tessera's own work.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "ws";

const [iters = 1000, warm = 200] = process.argv.slice(2).map(Number);

if (process.env.WS_PINGPONG_CHILD) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  wss.on("listening", () => process.send(wss.address().port));
  wss.on("connection", (ws) => {
    ws.on("message", (d) => ws.send(d, { binary: true }));
    ws.on("close", () => { wss.close(); process.exit(0); });
  });
} else {
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, WS_PINGPONG_CHILD: "1" } });
  const port = await new Promise((r) => child.once("message", r));
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((r, j) => { ws.once("open", r); ws.once("error", j); });
  const msg = new Float64Array([1]);
  const times = [];
  let resolveOne;
  ws.on("message", () => resolveOne());
  for (let i = 0; i < warm + iters; i++) {
    const t0 = performance.now();
    await new Promise((r) => { resolveOne = r; ws.send(msg, { binary: true }); });
    if (i >= warm) times.push((performance.now() - t0) * 1e3);
  }
  ws.close();
  await new Promise((r) => child.once("exit", r));
  times.sort((a, b) => a - b);
  const med = times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  console.log(JSON.stringify({ engine: "ws-pingpong", iters, rtt_median_us: med, rtt_mean_us: times.reduce((a, b) => a + b, 0) / times.length, rtt_min_us: times[0] }));
}
