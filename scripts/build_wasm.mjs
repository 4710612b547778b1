// Builds the engine module: assembly/ → build/engine.wasm (-O3), and bundles
// the bindings for browsers → build/engine.js. Runs under Node.js (npm
// scripts) and Deno (deno tasks); skips work when outputs are newer than
// their sources.
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build");
mkdirSync(out, { recursive: true });

function newestMtime(dir, exts) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => p.endsWith(e))) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}
function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

const wasmPath = join(out, "engine.wasm");
const asSources = Math.max(
  newestMtime(join(root, "assembly"), [".ts", ".json"]),
  mtime(fileURLToPath(import.meta.url)),
);
if (mtime(wasmPath) < asSources) {
  const { error, stderr } = await asc.main([
    join(root, "assembly/index.ts"),
    "--outFile",
    wasmPath,
    "--textFile",
    join(out, "engine.wat"),
    "-O3",
    "--runtime",
    "minimal",
    "--noAssert",
    // Fixed-width SIMD: every current browser and Deno support it.
    "--enable",
    "simd",
    // No imports at all: the module is numbers in, numbers out.
    "--use",
    "abort=",
    "--initialMemory",
    "16",
  ]);
  if (error) {
    console.error(stderr.toString());
    console.error(`engine build failed: ${error.message}`);
    process.exit(1);
  }
  console.error(`built ${wasmPath}`);
}

// The browser bundle of the bindings (for the query page and browser tests).
const jsPath = join(out, "engine.js");
const tsSources = newestMtime(join(root, "src/bindings"), [".ts"]);
if (mtime(jsPath) < tsSources) {
  const deno = join(root, "node_modules/.bin/deno");
  const r = spawnSync(
    statSync(deno, { throwIfNoEntry: false }) ? deno : "deno",
    [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "-o",
      jsPath,
      join(root, "src/bindings/mod.ts"),
    ],
    { stdio: "inherit" },
  );
  if (r.status !== 0) {
    console.error("bindings bundle failed");
    process.exit(1);
  }
  console.error(`built ${jsPath}`);
}

// The query page bundles these bindings too.
await import("./build_ui.mjs");
