// A file the build generates from sources (gen-catalogue.mjs, gen-denial-types.mjs):
// rewritten only when its text changes, and a `--check` mode that fails when the
// committed copy is stale.
import { readFileSync, writeFileSync } from "node:fs";

/** The file's text as it is now ("" when it does not exist). */
function committed(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Writes render()'s text to `path` when it differs; returns whether it changed. */
export function writeIfChanged(path, render) {
  const text = render();
  if (text === committed(path)) return false;
  writeFileSync(path, text);
  return true;
}

/**
 * A generator script's command line: with `--check`, exit 1 when `path` is not
 * what render() gives (`shown` and `from` name the file and its sources);
 * otherwise write it when it changed.
 */
export function generatorCli(script, { path, shown, from, render }) {
  if (process.argv.includes("--check")) {
    if (render() !== committed(path)) {
      console.error(`${script}: ${shown} is out of date with ${from}; run \`node scripts/${script}.mjs\``);
      process.exit(1);
    }
  } else if (writeIfChanged(path, render)) {
    console.error(`${script}: wrote ${shown}`);
  }
}
