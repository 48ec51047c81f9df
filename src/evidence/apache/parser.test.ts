import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../errors.js";
import { MAX_INCLUDE_DEPTH } from "../../limits.js";
import { parseApacheConfig, parseApacheText, splitArgs } from "./parser.js";

const FIX = join(import.meta.dirname, "..", "..", "..", "fixtures", "apache");

describe("parseApacheConfig", () => {
  it("expands IncludeOptional globs in order relative to ServerRoot, with file and line", () => {
    const c = parseApacheConfig(join(FIX, "glob", "main.conf"));
    expect(c.nodes.map((n) => n.name)).toEqual(["DocumentRoot", "Directory"]);
    const dir = c.nodes[1];
    expect(dir?.file).toBe(join(FIX, "glob", "conf.d", "20-dir.conf"));
    expect(dir?.line).toBe(1);
    const req = dir?.kind === "section" ? dir.children[0] : undefined;
    // A continued line keeps the number of its first line.
    expect(req).toMatchObject({ name: "Require", args: ["ip", "10.7.0.0/16"], line: 2 });
  });

  it("names the chain of an include loop in one line", () => {
    const run = () => parseApacheConfig(join(FIX, "loop", "a.conf"), { serverRoot: FIX });
    expect(run).toThrow(InputError);
    expect(run).toThrow(/include loop: .*a\.conf -> .*b\.conf -> .*a\.conf$/);
  });

  it("refuses a non-text include such as /dev/zero", () => {
    expect(() => parseApacheConfig(join(FIX, "devzero.conf"))).toThrow(
      /\/dev\/zero .*not a regular text file/,
    );
  });

  it("caps include depth", () => {
    const dir = mkdtempSync(join(tmpdir(), "why403-apache-"));
    for (let i = 0; i <= MAX_INCLUDE_DEPTH + 1; i++)
      writeFileSync(join(dir, `${i}.conf`), `Include ${dir}/${i + 1}.conf\n`);
    expect(() => parseApacheConfig(join(dir, "0.conf"))).toThrow(/deeper than/);
  });

  it("reports an unclosed section and a mismatched close with file:line", () => {
    expect(() => parseApacheText("<Directory /x>\nRequire all granted\n", "t.conf")).toThrow(
      /t\.conf:1: <Directory> is not closed/,
    );
    expect(() => parseApacheText("<Directory /x>\n</Location>\n", "t.conf")).toThrow(
      /t\.conf:2: <\/Location> closes <Directory>/,
    );
  });

  it("decides <IfModule> against LoadModule lines when the config loads modules", () => {
    const c = parseApacheText(
      "LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so\n<IfModule mod_rewrite.c>\nA 1\n</IfModule>\n<IfModule !rewrite_module>\nB 2\n</IfModule>\n<IfModule mod_ssl.c>\nC 3\n</IfModule>\n",
    );
    expect(c.nodes.map((n) => n.name)).toEqual(["LoadModule", "A"]);
  });

  it("splits quoted arguments and skips comments", () => {
    expect(splitArgs(` "a b" 'c' d\\e "x\\"y"`)).toEqual(["a b", "c", "d\\e", 'x"y']);
    const c = parseApacheText("# comment\n  # indented comment\nServerName x\n");
    expect(c.nodes).toHaveLength(1);
  });
});
