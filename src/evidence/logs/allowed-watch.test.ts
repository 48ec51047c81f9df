// The allowed clients gathered in the first pass (allowed-watch.ts) give the
// answer of the full second pass over the files, path by path.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressRuleEvidence, isAddressOrBlanket } from "./address-rule.js";
import { AllowedWatch } from "./allowed-watch.js";
import { analyzeLogs, scanLogs } from "./analyze.js";
import type { Joined } from "./join.js";

const dir = mkdtempSync(join(tmpdir(), "why403-watch-"));
let files = 0;

function file(lines: string[]): string {
  const p = join(dir, `f${files++}.log`);
  writeFileSync(p, `${lines.join("\n")}\n`);
  return p;
}

const sec = (s: number) => String(s % 60).padStart(2, "0");
const access = (client: string, path: string, status: number, s: number) =>
  `${client} - - [26/Nov/2026:05:00:${sec(s)} +0000] "GET ${path} HTTP/1.1" ${status} 10 "-" "curl/8.5.0"`;
const forbidden = (client: string, path: string, s: number) =>
  `2026/11/26 05:00:${sec(s)} [error] 7#7: *${s} access forbidden by rule, client: ${client}, server: _, request: "GET ${path} HTTP/1.1", host: "x"`;

/** The verdict per noted path, from the first-pass watch (when `watched`) or from the full second pass. */
async function verdicts(paths: string[], watched: boolean) {
  const evidence = new AddressRuleEvidence(null);
  const watch = new AllowedWatch();
  const noted = new Set<string>();
  const summaries = await scanLogs(
    paths,
    {},
    (j: Joined) => {
      if (!isAddressOrBlanket(j.rec)) return;
      evidence.note(j);
      if (j.rec.path) noted.add(j.rec.path);
    },
    watch,
  );
  await evidence.gatherAllowed(summaries, watched ? watch : undefined);
  return { watch, byPath: [...noted].sort().map((p) => [p, evidence.byLogs(p)]) };
}

describe("allowed clients gathered in the first pass", () => {
  it("finds a client allowed before the path was first refused, and reads again only up to there", async () => {
    const lines = [access("10.0.0.1", "/x", 200, 1)];
    for (let i = 0; i < 40; i++) lines.push(access(`10.0.1.${i}`, "/other", 200, 2));
    lines.push(forbidden("10.0.0.9", "/x", 3));
    lines.push(access("10.0.0.2", "/x", 200, 4));
    const p = file(lines);
    const first = await verdicts([p], true);
    expect(first.byPath).toEqual([
      [
        "/x",
        { cause: "ip-restriction", why: "; the same logs show 10.0.0.1 allowed on /x: an address rule" },
      ],
    ]);
    expect(first.byPath).toEqual((await verdicts([p], false)).byPath);
    // Watched from the refusal's line (42) on: the lines before it are read again, no more.
    expect(first.watch.rereadBefore(0, ["/x"])).toBe(42);
  });

  it("finds a client allowed only after the path was first refused, without reading the file again", async () => {
    const p = file([
      access("10.0.0.3", "/y", 200, 1),
      forbidden("10.0.0.3", "/y", 2),
      forbidden("10.0.0.9", "/y", 3),
      access("10.0.0.3", "/y", 200, 9),
      access("10.0.0.4", "/y", 200, 20),
    ]);
    const first = await verdicts([p], true);
    // 10.0.0.3 was refused too: the first other allowed client is 10.0.0.4, seen in the first pass.
    expect(first.byPath).toEqual([
      [
        "/y",
        { cause: "ip-restriction", why: "; the same logs show 10.0.0.4 allowed on /y: an address rule" },
      ],
    ]);
    expect(first.byPath).toEqual((await verdicts([p], false)).byPath);
  });

  it("leaves files read together (in step by time) to the full second pass, with its answer", async () => {
    const a = file([access("10.0.0.5", "/z", 200, 1)]);
    const e = file([forbidden("10.0.0.9", "/z", 2)]);
    const first = await verdicts([a, e], true);
    // Their lines interleave: the watch cannot say which lines came before the path was watched.
    expect(first.watch.covers(["/z"])).toBe(false);
    expect(first.byPath).toEqual([
      [
        "/z",
        { cause: "ip-restriction", why: "; the same logs show 10.0.0.5 allowed on /z: an address rule" },
      ],
    ]);
    expect(first.byPath).toEqual((await verdicts([a, e], false)).byPath);
  });

  it("gives a path allowed for too many clients up to the full second pass, with the same answer", async () => {
    const lines = [forbidden("10.0.0.9", "/w", 1)];
    // The refused clients come back allowed: 70 allowed clients in one file, more than the watch keeps.
    for (let i = 0; i < 70; i++) lines.push(forbidden(`10.0.2.${i}`, "/w", 2));
    for (let i = 0; i < 70; i++) lines.push(access(`10.0.2.${i}`, "/w", 200, 3));
    lines.push(access("10.0.0.1", "/w", 200, 4));
    const p = file(lines);
    const first = await verdicts([p], true);
    expect(first.watch.covers(["/w"])).toBe(false);
    expect(first.byPath).toEqual((await verdicts([p], false)).byPath);
    // Refused clients are remembered up to MAX_CLIENTS (64: 10.0.0.9 and 10.0.2.0-62): 10.0.2.63 is the first other.
    expect(first.byPath).toEqual([
      [
        "/w",
        { cause: "ip-restriction", why: "; the same logs show 10.0.2.63 allowed on /w: an address rule" },
      ],
    ]);
  });

  it("gives the second pass's answer on random logs", async () => {
    const clients = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    const paths = ["/a", "/a/b", "/c", "/c?q=1"];
    const line = fc
      .tuple(
        fc.constantFrom("allowed", "refused", "forbidden", "other"),
        fc.constantFrom(...clients),
        fc.constantFrom(...paths),
        fc.nat(59),
      )
      .map(([kind, client, path, s]) =>
        kind === "allowed"
          ? access(client, path, 200, s)
          : kind === "refused"
            ? access(client, path, 403, s)
            : kind === "forbidden"
              ? forbidden(client, path, s)
              : access(client, "/elsewhere", 200, s),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(line, { maxLength: 30 }), { minLength: 1, maxLength: 3 }),
        async (logs) => {
          const written = logs.map(file);
          const first = await verdicts(written, true);
          const second = await verdicts(written, false);
          expect(first.byPath).toEqual(second.byPath);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reports the same whichever way the allowed clients were found", async () => {
    const p = file([
      access("10.0.0.1", "/admin", 200, 1),
      forbidden("10.0.0.9", "/admin", 2),
      forbidden("10.0.0.8", "/closed", 3),
      forbidden("10.0.0.7", "/closed", 4),
    ]);
    const r = await analyzeLogs([p]);
    expect(r.byCause).toEqual({ "ip-restriction": 1, "server-config": 2 });
  });
});
