// The launcher's port for rank 0 (comm/launch.ts freePort) lies below the kernel's ephemeral range, where
// no outgoing connection's source port can take it between the choice and rank 0's listen.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:net";
import { ephemeralRange, freePort } from "../../dist/comm/launch.js";

test("freePort: below the ephemeral range, above the privileged ports, and free", async () => {
  const [lo, hi] = ephemeralRange();
  assert.ok(lo > 1024 && hi >= lo, `range ${lo}-${hi}`);
  const seen = new Set();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    assert.ok(port < lo && port >= 1024, `port ${port} outside [1024, ${lo})`);
    seen.add(port);
    const s = createServer();
    await new Promise((resolve, reject) => s.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((r) => s.close(r));
  }
  assert.ok(seen.size > 10, "random ports, not one that collides every time");
});

test.run();
