// Builds the engine module: assembly/ → build/engine.wasm (-O3), and bundles
// the bindings for browsers → build/engine.js. Runs under Node.js (npm
// scripts) and Deno (deno tasks); skips work when outputs are newer than
// their sources.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForBrowser, mtime, newestMtime } from "./_build_util.mjs";
import asc from "assemblyscript/asc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build");
mkdirSync(out, { recursive: true });

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
  bundleForBrowser(root, join(root, "src/bindings/mod.ts"), jsPath, "bindings");
}

// The query page bundles these bindings too.
await import("./build_ui.mjs");
