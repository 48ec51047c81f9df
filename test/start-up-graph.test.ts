// What `why403 --version` loads: the entry file and the chunks it imports statically.
// The signatures (inlined JSON, src/fingerprint/catalogue.generated.ts) and every
// command's code sit behind dynamic imports, so a start-up that needs neither never
// parses them (bench/cold-start.mjs measures the time; this checks the reason).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ENTRY = resolve("dist/why403.js");
const STATIC_IMPORT = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{},\s]+?\s*from\s*)?"(\.[^"]+)"/g;

function staticGraph(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(STATIC_IMPORT)) stack.push(join(dirname(file), m[1]!));
  }
  return seen;
}

describe("start-up path of the built CLI", () => {
  it("loads no signature and no command module statically", () => {
    expect(existsSync(ENTRY), "run npm run build first").toBe(true);
    const graph = staticGraph(ENTRY);
    const everything = [...graph.values()].join("\n");
    // Strings only the signature files hold (Cloudflare's and nginx's markers).
    expect(everything).not.toContain("Cloudflare Ray ID");
    expect(everything).not.toContain("ngx_http_special_response");
    expect([...graph.keys()].some((f) => /cmd-curl/.test(f))).toBe(false);
  });

  it("would see the signatures if they were imported statically (the library entry does)", () => {
    const library = [...staticGraph(resolve("dist/index.js")).values()].join("\n");
    expect(library).toContain("Cloudflare Ray ID");
  });
});
