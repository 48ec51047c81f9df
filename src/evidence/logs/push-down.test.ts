// The SQL generator's pure parts; the query itself is checked against a real
// clickhouse-server in test/clickhouse.test.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LineDispatcher } from "./dispatch.js";
import { type DataFormat, LINE_RULES } from "./line-rules.js";
import {
  canRecord,
  denialsQuery,
  denialsStages,
  keepGroups,
  onlyGroup,
  re2,
  replaceGroup,
  sqlIdent,
  sqlString,
  unanchored,
} from "./push-down.js";
import { formatById, REGEX_FORMATS, WRAPPERS } from "./rules.js";

describe("re2", () => {
  it("keeps the common subset and turns the i flag into (?i)", () => {
    expect(re2(/^a(b|c)\d+$/)).toBe("^a(b|c)\\d+$");
    expect(re2(/token/i)).toBe("(?i)token");
  });

  it("refuses what RE2 cannot run, so a rule written with it fails here, not in ClickHouse", () => {
    expect(() => re2(/a(?=b)/)).toThrow(/lookaround/);
    expect(() => re2(/(?<!a)b/)).toThrow(/lookaround/);
    expect(() => re2(/(a)\1/)).toThrow(/back-reference/);
  });

  it("every pattern the query is built from has an RE2 form", () => {
    const dataPatterns = (f: DataFormat) => [
      f.line,
      ...Object.values(f.extract).map(([, re]) => re),
      ...f.rules.flatMap((r) => [...(r.match ? [r.match] : []), ...r.where.map(([, re]) => re)]),
    ];
    const patterns: RegExp[] = [
      LINE_RULES.access.line,
      LINE_RULES.access.time,
      ...dataPatterns(LINE_RULES.nginxError),
      ...dataPatterns(LINE_RULES.apacheError),
      ...LINE_RULES.dataFormats.flatMap(dataPatterns),
      ...dataPatterns(LINE_RULES.freeText),
      ...LINE_RULES.dataPrefilter.patterns,
      LINE_RULES.apacheError.time,
      LINE_RULES.waf.marker,
      LINE_RULES.waf.action,
      LINE_RULES.waf.status,
      LINE_RULES.waf.client,
      LINE_RULES.waf.lineTime,
      LINE_RULES.requestLine,
    ];
    for (const p of patterns) expect(() => re2(p), p.source).not.toThrow();
    expect(() => denialsQuery(table, LINE_RULES)).not.toThrow();
  });
});

describe("one source of truth", () => {
  it("the error formats and their rules are the rule files' compiled objects, not a copy", () => {
    expect(LINE_RULES.nginxError.line).toBe(formatById("nginx-error").re);
    expect(LINE_RULES.apacheError.line).toBe(formatById("apache-error").re);
    expect(LINE_RULES.apacheError.rules.map((r) => r.id)).toEqual(
      formatById("apache-error").rules.map((r) => `${r.family.family}/${r.spec.id}`),
    );
    const sql = denialsQuery(table, LINE_RULES);
    for (const f of [LINE_RULES.nginxError, LINE_RULES.apacheError])
      for (const r of f.rules.filter((x) => x.match !== null))
        expect(sql, r.id).toContain(sqlString(re2(r.match as RegExp)));
  });

  it("a rule added to the data reaches the SQL with its cause and status", () => {
    const extra = {
      id: "test/x",
      match: /^a made-up refusal/,
      on: "message",
      where: [],
      fields: {},
      cause: "waf" as const,
      status: 418,
      addressOrBlanket: false,
    };
    const rules = { ...LINE_RULES, nginxError: { ...LINE_RULES.nginxError, rules: [extra] } };
    const sql = denialsQuery(table, rules);
    expect(sql).toContain("match(msg, '^a made-up refusal'), 1");
    expect(sql).toContain("['waf']");
    expect(sql).toContain("[418]");
    expect(denialsQuery(table, LINE_RULES)).not.toContain("made-up");
  });

  it("the generic branch reads every regex data format but the two with a branch of their own, in the dispatcher's order", () => {
    expect(LINE_RULES.dataFormats.map((f) => f.id)).toEqual(
      REGEX_FORMATS.map((f) => f.spec.id).filter((id) => id !== "nginx-error" && id !== "apache-error"),
    );
    for (const f of LINE_RULES.dataFormats) expect(f.line).toBe(formatById(f.id).re);
    const sql = denialsQuery(table, LINE_RULES);
    let at = sql.indexOf("'waf-text',");
    for (const f of LINE_RULES.dataFormats) {
      const next = sql.indexOf(`match(l, ${sqlString(re2(f.line))}), ${sqlString(f.id)}`, at);
      expect(next, f.id).toBeGreaterThan(at);
      at = next;
    }
  });

  it("a data format added to the data is pushed down with its rules, time kind and status reading", () => {
    const made: DataFormat = {
      id: "made-up",
      line: /^MADE (\S+) (\d{3}) (\d+) (.*)$/,
      fields: { client: 1, status: 2, time: 3, message: 4 },
      extract: {},
      rules: [
        {
          id: "made/x",
          match: /^go away/,
          on: "message",
          where: [],
          fields: {},
          cause: "waf",
          status: 418,
          addressOrBlanket: false,
        },
      ],
      kind: "access",
      timeKind: "epoch",
      clientHasPort: false,
    };
    const sql = denialsQuery(table, { ...LINE_RULES, dataFormats: [made] });
    expect(canRecord(made)).toBe(true);
    expect(sql).toContain(`match(l, '^MADE (\\\\S+) (\\\\d{3}) (\\\\d+) (.*)$'), 'made-up'`);
    expect(sql).toContain("WHERE fmt = 'made-up'");
    expect(sql).toContain("[418]");
    expect(sql).not.toContain("'haproxy-http'");
    const silent = {
      ...made,
      fields: { message: 4 },
      rules: [{ ...made.rules[0], cause: null }],
    } as DataFormat;
    expect(canRecord(silent)).toBe(false);
    expect(denialsQuery(table, { ...LINE_RULES, dataFormats: [silent] })).not.toContain(
      "WHERE fmt = 'made-up'",
    );
  });
});

const table = {
  table: "logs",
  lineColumn: "line",
  sourceColumn: "source",
  numberColumn: null,
  timeColumn: null,
  timeZone: "UTC",
};

describe("groups", () => {
  it("onlyGroup keeps the n-th capturing group and makes the others non-capturing", () => {
    const re = onlyGroup(/^(a)(?:x)(b[(]c)(d)$/, 2);
    expect(re.source).toBe("^(?:a)(?:x)(b[(]c)(?:d)$");
    expect(re.exec("axb(cd")?.[1]).toBe("b(c");
  });

  it("keepGroups keeps the listed groups, numbered anew in order", () => {
    const re = keepGroups(/^(a)(b)(c)(d)$/, [2, 4]);
    expect(re.source).toBe("^(?:a)(b)(?:c)(d)$");
    expect("abcd".replace(re, "$2$1")).toBe("db");
  });

  it("replaceGroup swaps the body of the n-th group, nested groups and escapes included", () => {
    expect(replaceGroup(/^(\d+) (x(y)z) (\d{3})$/, 4, "401|403").source).toBe("^(\\d+) (x(y)z) (401|403)$");
    expect(() => replaceGroup(/(a)/, 2, "b")).toThrow(/no group 2/);
  });

  it("the refused-access prefilter accepts exactly the refusal statuses", () => {
    const re = replaceGroup(LINE_RULES.access.line, 8, LINE_RULES.access.refusalStatuses.join("|"));
    const line = (status: number) =>
      `10.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "POST /x HTTP/1.1" ${status} 12 "-" "curl"`;
    expect(re.test(line(403))).toBe(true);
    expect(re.test(line(429))).toBe(true);
    expect(re.test(line(200))).toBe(false);
    expect(re.test(line(404))).toBe(false);
  });
});

describe("the prefilter", () => {
  const r = LINE_RULES;
  const passes = (line: string) =>
    r.prefilter.needles.some((s) => line.includes(s)) || r.prefilter.patterns.some((re) => re.test(line));
  /** What the candidate patterns find in any part of a line (the rows the query must keep). */
  const refused = replaceGroup(r.access.line, 8, r.access.refusalStatuses.join("|"));
  const candidate = (line: string) =>
    [refused, r.apacheError.line, r.nginxError.line, r.waf.marker].some((re) => unanchored(re).test(line));
  const fixtureLines = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? fixtureLines(join(dir, e.name))
        : e.name.endsWith(".log")
          ? readFileSync(join(dir, e.name), "utf8").split("\n")
          : [],
    );
  const ruleExamples = ["nginx-error", "apache-error"].flatMap((id) =>
    formatById(id).rules.flatMap((x) => x.spec.examples.map((e) => e.line)),
  );
  const wrapperExamples = WRAPPERS.flatMap((w) => w.examples.map((e) => e.line));

  it("passes every line the candidate patterns find in: fixtures, rule and envelope examples, wrapped or not", () => {
    const lines = [...fixtureLines("fixtures/logs"), ...ruleExamples, ...wrapperExamples];
    const wrapped = lines.flatMap((l) => [`Nov 26 05:00:00 web1 httpd[2201]: ${l}`, `MESSAGE=${l}`]);
    const kept = [...lines, ...wrapped].filter(candidate);
    expect(kept.length).toBeGreaterThan(200);
    expect(kept.filter((l) => !passes(l))).toEqual([]);
  });

  it("passes every line of a data format that makes a record locally: their examples, wrapped or not", () => {
    const passesData = (line: string) =>
      passes(line) ||
      r.dataPrefilter.needles.some((s) => line.includes(s)) ||
      r.dataPrefilter.patterns.some((re) => re.test(line));
    const examples = [...r.dataFormats.map((f) => f.id), r.freeText.id].flatMap((id) => {
      const f = formatById(id);
      return [...(f.spec.examples ?? []), ...f.rules.flatMap((x) => x.spec.examples)].map((e) => e.line);
    });
    const lines = examples.flatMap((l) => [l, `Nov 26 05:00:00 web1 proxy[2201]: ${l}`, `MESSAGE=${l}`]);
    const recorded = lines.filter(
      (text) => new LineDispatcher("x", []).feed({ n: 1, text, cut: false }).records.length > 0,
    );
    expect(recorded.length).toBeGreaterThan(60);
    expect(recorded.filter((l) => !passesData(l))).toEqual([]);
  });

  it("drops an access line that was not refused and a line of no pushed-down format", () => {
    expect(passes(`10.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "POST /x HTTP/1.1" 200 12 "-" "curl"`)).toBe(
      false,
    );
    expect(passes(`10.0.0.1 - - [26/Nov/2026:05:00:00 +0000] "POST /x HTTP/1.1" 403 12 "-" "curl"`)).toBe(
      true,
    );
    expect(passes("just some text")).toBe(false);
  });
});

describe("stages", () => {
  it("each stage reads only stages before it, and the last one gives the denials", () => {
    const stages = denialsStages(table, LINE_RULES);
    const seen = new Set<string>();
    for (const s of stages) {
      for (const m of s.select.matchAll(/\{\{(\w+)\}\}/g))
        expect(seen, `${s.name} reads ${m[1]}`).toContain(m[1]);
      seen.add(s.name);
    }
    expect(stages.at(-1)?.name).toBe("denials");
    const script = denialsQuery(table, LINE_RULES);
    expect(script).not.toMatch(/\{\{/);
    expect(script.split(";\n")).toHaveLength(stages.length);
  });
});

describe("quoting", () => {
  it("string literals and identifiers cannot be broken out of", () => {
    expect(sqlString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(sqlIdent("db.t`x")).toBe("`db`.`t\\`x`");
  });
});
