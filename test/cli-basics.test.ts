// The command's outer behaviour: help, version, usage errors, bad input.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isOneLineError, runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "why403-cli-"));
function file(name: string, content: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
}

describe("why403 outer behaviour", () => {
  it("prints the version and help with examples", () => {
    expect(runCli(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples");
    for (const cmd of ["curl", "har", "response", "logs", "config", "demo"]) {
      const r = runCli([cmd, "--help"]);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`why403 ${cmd}`);
    }
  });

  it("answers usage errors with exit 2 and one line", () => {
    for (const args of [
      ["frobnicate"],
      ["har"],
      ["response"],
      ["logs"],
      ["config", "nginx"],
      ["har", "a.har", "--entry"],
      ["logs", "x", "--bogus"],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(isOneLineError(r), `${args.join(" ")}: ${r.stderr}`).toBe(true);
    }
  });

  it("answers bad input files with exit 2 and one line naming the problem", () => {
    const cases: Array<[string[], RegExp]> = [
      [["har", join(tmp, "missing.har")], /missing\.har/],
      [["har", file("empty.har", "")], /empty/i],
      [["har", file("notjson.har", "{ this is not json")], /JSON|HAR/i],
      [["har", file("nothar.har", JSON.stringify({ hello: 1 }))], /HAR/],
      [["response", file("binary.http", Buffer.from([0, 1, 2, 3, 0, 255, 254, 0]))], /binary/i],
      [["response", file("nostatus.http", "hello there\n\nbody")], /status/i],
      [["response", tmp], /director/i],
      [["curl", "'https://x.test/a", "-X"], /.+/],
      [["curl", "https://x.test/a", "--config", "x"], /--config/],
    ];
    for (const [args, re] of cases) {
      const r = runCli(args);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(isOneLineError(r), `${args.join(" ")}: ${r.stderr}`).toBe(true);
      expect(r.stderr).toMatch(re);
    }
  });

  it("says so with exit 3 when a HAR holds no refusal", () => {
    const har = {
      log: {
        version: "1.2",
        creator: { name: "t", version: "1" },
        entries: [
          {
            startedDateTime: "2026-11-26T05:00:00.000Z",
            time: 1,
            request: {
              method: "GET",
              url: "https://a.test/",
              httpVersion: "HTTP/1.1",
              headers: [],
              queryString: [],
              cookies: [],
              headersSize: -1,
              bodySize: 0,
            },
            response: {
              status: 200,
              statusText: "OK",
              httpVersion: "HTTP/1.1",
              headers: [],
              cookies: [],
              content: { size: 0, mimeType: "text/html" },
              redirectURL: "",
              headersSize: -1,
              bodySize: 0,
            },
            cache: {},
            timings: { send: 0, wait: 1, receive: 0 },
          },
        ],
      },
    };
    const r = runCli(["har", file("ok.har", JSON.stringify(har))]);
    expect(r.code).toBe(3);
    expect(isOneLineError(r)).toBe(true);
  });
});
