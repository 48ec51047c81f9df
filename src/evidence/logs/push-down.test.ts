// The SQL generator's pure parts; the query itself is checked against a real
// clickhouse-server in test/clickhouse.test.ts.
import { describe, expect, it } from "vitest";
import { type DataFormat, LINE_RULES } from "./line-rules.js";
import { denialsQuery, onlyGroup, re2, replaceGroup, sqlIdent, sqlString } from "./push-down.js";
import { formatById } from "./rules.js";

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
      for (const r of f.rules) if (r.match) expect(sql, r.id).toContain(sqlString(re2(r.match)));
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
    };
    const rules = { ...LINE_RULES, nginxError: { ...LINE_RULES.nginxError, rules: [extra] } };
    const sql = denialsQuery(table, rules);
    expect(sql).toContain("match(msg, '^a made-up refusal'), 1");
    expect(sql).toContain("['waf']");
    expect(sql).toContain("[418]");
    expect(denialsQuery(table, LINE_RULES)).not.toContain("made-up");
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

describe("quoting", () => {
  it("string literals and identifiers cannot be broken out of", () => {
    expect(sqlString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(sqlIdent("db.t`x")).toBe("`db`.`t\\`x`");
  });
});
