// Every rule file under data/logs/ carries its own example lines: each one is
// read here through the same dispatcher `why403 logs` uses, and must come out
// as the file says (cause, status, path, client), or as no refusal at all.
import { describe, expect, it } from "vitest";
import { LineDispatcher } from "../src/evidence/logs/dispatch.js";
import { LinePrefilter } from "../src/evidence/logs/prefilter.js";
import {
  FORMATS,
  MESSAGE_FAMILIES,
  peelJson,
  peelText,
  type RuleExample,
  singleGroup,
  WRAPPERS,
} from "../src/evidence/logs/rules.js";
import { CAUSE_IDS } from "../src/model.js";

function read(line: string) {
  const d = new LineDispatcher("x.log", []);
  const r = d.feed({ n: 1, text: line, cut: false });
  return { format: r.format, records: [...r.records, ...d.end()] };
}

function check(ex: RuleExample): void {
  const { format, records } = read(ex.line);
  expect(format, ex.line).not.toBe("unknown");
  const denials = records.filter((r) => r.denied);
  if (ex.denied === false) {
    expect(denials, ex.line).toEqual([]);
    return;
  }
  expect(denials, ex.line).toHaveLength(1);
  const rec = denials[0];
  expect(rec?.cause, ex.line).toBe(ex.cause);
  expect(rec?.status, ex.line).toBe(ex.status);
  // The path and client, where the example states them.
  expect({ path: rec?.path, client: rec?.client }, ex.line).toMatchObject({
    ...(ex.path !== undefined && { path: ex.path }),
    ...(ex.client !== undefined && { client: ex.client }),
  });
  // The byte prefilter must let every refusal through once the format sample is full.
  expect(new LinePrefilter(false).mayHoldRecord(ex.line), `prefilter drops: ${ex.line}`).toBe(true);
}

const ALL_PATTERNS: Array<[string, string]> = [
  ...WRAPPERS.flatMap((w) => (w.match ? [[w.id, w.match] as [string, string]] : [])),
  ...FORMATS.flatMap((f) => [
    ...(f.match ? [[f.id, f.match] as [string, string]] : []),
    ...Object.values(f.extract ?? {}).map((e) => [f.id, e.match] as [string, string]),
    ...Object.values(f.json?.requires ?? {}).map((re) => [f.id, re] as [string, string]),
  ]),
  ...MESSAGE_FAMILIES.flatMap((fam) =>
    fam.rules.flatMap((r) => [
      ...(r.match ? [[`${fam.family}/${r.id}`, r.match] as [string, string]] : []),
      ...Object.values(r.where ?? {}).map((re) => [`${fam.family}/${r.id}`, re] as [string, string]),
    ]),
  ),
];

describe("log rule files", () => {
  it("use only the regex subset RE2 (ClickHouse) shares with JavaScript", () => {
    for (const [id, re] of ALL_PATTERNS) {
      expect(re, id).not.toMatch(/\(\?<?[=!]|\(\?<\w|\\[1-9]|\(\?[imsx]/);
      expect(() => new RegExp(re), id).not.toThrow();
    }
  });

  it("name only contract causes", () => {
    const allowed = new Set<string | null>([...CAUSE_IDS, "by-status", null]);
    for (const fam of MESSAGE_FAMILIES)
      for (const r of fam.rules) {
        expect(allowed.has(r.cause), `${fam.family}/${r.id}`).toBe(true);
        for (const c of Object.keys(r.also ?? {})) expect(CAUSE_IDS).toContain(c);
        expect(r.examples.length, `${fam.family}/${r.id} has no example`).toBeGreaterThan(0);
      }
  });

  it("peel every wrapper's example to its inner line", () => {
    for (const w of WRAPPERS)
      for (const ex of w.examples) {
        const peeled = ex.line.startsWith("{") ? peelJson(JSON.parse(ex.line)) : peelText(ex.line);
        expect(peeled?.wrapper, ex.line).toBe(w.id);
        expect(peeled?.inner).toBe(ex.inner);
        // And the inner line is recognised through the envelope.
        expect(read(ex.line).format, ex.line).not.toMatch(/unknown/);
      }
  });

  for (const f of FORMATS) {
    if (!f.examples?.length) continue;
    it(`read format ${f.id}'s examples`, () => {
      for (const ex of f.examples ?? []) {
        expect(read(ex.line).format, ex.line).toBe(f.id);
        check(ex);
      }
    });
  }

  for (const fam of MESSAGE_FAMILIES) {
    it(`classify message family ${fam.family}'s examples`, () => {
      for (const r of fam.rules) for (const ex of r.examples) check(ex);
    });
  }

  it("leave a line of no known format unknown", () => {
    expect(read("just some words, forbidden maybe").format).toBe("unknown");
    expect(read("Nov 26 05:00:00 web1 sshd[22]: Accepted publickey for ops").records).toEqual([]);
  });

  it("turn one field of a rule into a single-group regex", () => {
    const re = '^user "([^"]*)" was not found in "([^"]*)" \\(x\\) (?:a|(b))[(]';
    expect(singleGroup(re, 2)).toBe('^user "(?:[^"]*)" was not found in "([^"]*)" \\(x\\) (?:a|(?:b))[(]');
    expect(new RegExp(singleGroup(re, 2)).exec('user "a" was not found in "/f" (x) a(')?.[1]).toBe("/f");
  });
});

describe("ModSecurity lines of the CRS 2 era", () => {
  it("find the action after the rule's tags", () => {
    const { records } = read(
      '[Thu Nov 26 05:00:00 2026] [error] [client 10.0.0.2] ModSecurity: [file "/etc/modsecurity/crs_21.conf"] [line "47"] [id "960015"] [msg "Request Missing an Accept Header"] Access denied with code 403 (phase 2). Operator EQ matched 0 at REQUEST_HEADERS. [hostname "x"] [uri "/"] [unique_id "AbC"]',
    );
    expect(records.map((r) => [r.cause, r.status, r.rules, r.client, r.denied])).toEqual([
      ["waf", 403, ["960015"], "10.0.0.2", true],
    ]);
  });
});
