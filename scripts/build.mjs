// Bundles the CLI and the library into dist/ with esbuild. Signatures and data files
// are JSON imported by the source, so they are inlined: no file reads at start-up.
import { build } from "esbuild";
import { chmodSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: { js: "import { createRequire as __why403Require } from 'node:module'; const require = __why403Require(import.meta.url);" },
};
await build({ ...common, entryPoints: { why403: "src/cli/main.ts" }, outdir: "dist", minify: true, banner: { js: "#!/usr/bin/env node\n" + common.banner.js } });
await build({ ...common, entryPoints: { index: "src/index.ts" }, outdir: "dist" });
chmodSync("dist/why403.js", 0o755);
