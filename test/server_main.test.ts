// The server process as an operator meets it: flags, --help, bad values,
// health routes, and a clean exit on SIGTERM.
import assert from "node:assert/strict";
import { parseDuration, parseFlags } from "../src/server/flags.ts";

const main = new URL("../src/server/main.ts", import.meta.url).pathname;

Deno.test("flags: defaults, env, overrides, durations, errors", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  const d = parseFlags([], env({}));
  assert.deepEqual(d, {
    authFile: undefined,
    port: 9090,
    host: "0.0.0.0",
    dataDir: "./data",
    retention: 15 * 86_400_000,
    oooWindow: 3600_000,
  });
  const o = parseFlags([
    "--port",
    "19090",
    "--data-dir=/tmp/x",
    "--retention",
    "2h30m",
  ], env({ HOST: "127.0.0.1" }));
  assert.ok(typeof o === "object" && !("error" in o));
  assert.equal(o.port, 19090);
  assert.equal(o.host, "127.0.0.1");
  assert.equal(o.dataDir, "/tmp/x");
  assert.equal(o.retention, 2.5 * 3600_000);
  assert.equal(parseFlags(["--help"]), "help");
  for (
    const bad of [["--port", "x"], ["--port", "70000"], ["--retention", "5q"], [
      "--nope",
      "1",
    ], ["--port"]]
  ) {
    const r = parseFlags(bad, env({}));
    assert.ok(typeof r === "object" && "error" in r, bad.join(" "));
  }
  assert.equal(parseDuration("1w"), 7 * 86_400_000);
  assert.equal(parseDuration("90"), 90_000);
});

async function run(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: p.code,
    out: new TextDecoder().decode(p.stdout),
    err: new TextDecoder().decode(p.stderr),
  };
}

Deno.test("--help lists every flag; a bad value exits non-zero with one line", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  for (
    const f of ["--port", "--host", "--data-dir", "--auth-file", "--retention"]
  ) {
    assert.ok(help.out.includes(f), f);
  }
  const bad = await run(["--port", "notaport"]);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.err.trim().split("\n").length, 1);
  assert.match(bad.err, /--port/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/auth.json`,
      '{"tenants":{"a":{"tokns":[]}}}',
    );
    const badAuth = await run([
      "--auth-file",
      `${dir}/auth.json`,
      "--data-dir",
      dir,
    ]);
    assert.notEqual(badAuth.code, 0);
    assert.equal(badAuth.err.trim().split("\n").length, 1, badAuth.err);
    assert.match(badAuth.err, /tenants\.a\.tokens/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serves health routes, then exits 0 on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dir,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let port = 0;
    let text = "";
    while (!port) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server exited: ${text}`);
      text += value;
      const m = text.match(/"msg":"listening".*"port":(\d+)/);
      if (m) port = Number(m[1]);
    }
    const healthy = await fetch(`http://127.0.0.1:${port}/-/healthy`);
    assert.equal(healthy.status, 200);
    await healthy.body?.cancel();
    // Ready once the WAL is replayed (503 before).
    for (let i = 0;; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/-/ready`);
      await r.body?.cancel();
      if (r.status === 200) break;
      assert.equal(r.status, 503);
      assert.ok(i < 100, "never ready");
      await new Promise((res) => setTimeout(res, 50));
    }
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await Deno.remove(dir, { recursive: true });
  }
});
