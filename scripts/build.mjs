// Bundles the CLI and the library into dist/ with esbuild. Signatures and data
// files are JSON imported by the source, so they are inlined; the list of signature
// files is generated first from signatures/ (scripts/gen-catalogue.mjs). Code splitting keeps
// each command's code out of the start-up path (`--version` loads one small file).
// types/denial.d.ts (the middleware subpaths' Denial types) is generated from the
// source too (scripts/gen-denial-types.mjs).

import { chmodSync, readFileSync, renameSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { generateCatalogue } from "./gen-catalogue.mjs";
import { generateDenialTypes } from "./gen-denial-types.mjs";

if (generateCatalogue()) console.error("build: signatures/ changed, catalogue.generated.ts rewritten");
if (generateDenialTypes()) console.error("build: denial.ts changed, types/denial.d.ts rewritten");

// Build beside dist/ and swap it in, so a run that uses dist/ meanwhile never sees it half-written.
const out = `dist.tmp-${process.pid}`;
const { version } = JSON.parse(readFileSync("package.json", "utf8"));
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: {
    why403: "src/cli/bin.ts",
    index: "src/index.ts",
    // Worker threads of `why403 logs` on large files (src/evidence/logs/parallel.ts finds it beside the chunks).
    "logs-worker": "src/evidence/logs/range-worker.ts",
    // The middleware subpaths (why403/express, …): they import their framework's types only.
    express: "src/middleware/express.ts",
    fastify: "src/middleware/fastify.ts",
    hono: "src/middleware/hono.ts",
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  chunkNames: "chunks/[name]-[hash]",
  // `why403 --version` and the help's title: one source, package.json.
  define: { __WHY403_VERSION__: JSON.stringify(version) },
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __why403Require } from 'node:module'; const require = __why403Require(import.meta.url);",
  },
});
chmodSync(`${out}/why403.js`, 0o755);
const old = `dist.old-${process.pid}`;
try {
  renameSync("dist", old);
} catch {
  // no previous build
}
renameSync(out, "dist");
rmSync(old, { recursive: true, force: true });
