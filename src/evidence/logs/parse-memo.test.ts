// The shortcuts of the error-line parsers (time memos, the plain-address path,
// split reason templates, field search from its literal, newRecord) must give
// exactly what the plain code they replace gave: each is compared with that
// code, kept here as the reference, on generated inputs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseApacheErrorLine } from "./apache-error.js";
import { restOfLineExec } from "./match-cache.js";
import { LinePrefilter } from "./prefilter.js";
import { clientAddress, makeRecord, newRecord } from "./record.js";
import { addExtracted, fillReason, formatById, literalPrefix } from "./rules.js";
import {
  fractionMs,
  fractionMsAt,
  parseApacheErrorTime,
  parseApacheErrorTimeUncached,
  parseNginxErrorTime,
} from "./time.js";
import { parseWafMessage, wafClient, wafFieldPattern } from "./waf.js";

function refNginxTime(s: string): Date | null {
  const m = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}

function refClient(raw: string, withPort = false): string {
  const s = raw
    .trim()
    .replace(/^"|"$/g, "")
    .replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+)/i, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) return bracketed[1] as string;
  if (withPort || /^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(s)) return s.replace(/:\d{1,5}$/, "");
  return s;
}

function refFill(template: string, fields: Record<string, string>, status?: number | null): string {
  if (template.indexOf("{") === -1) return template;
  return template.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === "status" && status !== undefined
      ? status === null
        ? "?"
        : String(status)
      : (fields[name] ?? "?"),
  );
}

const time = (d: Date | null) => (d === null ? null : d.getTime());
const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);

/** Apache stamps: valid ones around a few seconds, fractions of any length, and broken variants. */
const apacheStamp = fc
  .tuple(
    pick(["Mon Jan 05", "Thu Nov 26", "Sun Mar 29", "Sat Feb  1", "Tue Foo 05", "Thu N"]),
    pick([" 00:00:00", " 23:59:59", " 02:30:00", " 00:00:0", ""]),
    fc.option(fc.stringMatching(/^\.\d{0,8}$/), { nil: "" }),
    pick([" 2026", " 2025", "ov 26 00:00:00 2026", " 2026 ", "", " 2026.5", ".7 2026"]),
    pick(["", " ", "\t"]),
    fc.boolean(),
  )
  .map(([day, clock, frac, year, pad, fracLast]) =>
    fracLast ? `${pad}${day}${clock}${year}${frac}` : `${pad}${day}${clock}${frac}${year}`,
  );

describe("time memos", () => {
  it("parseApacheErrorTime gives what the uncached parse gives, in any order of stamps", () => {
    fc.assert(
      fc.property(fc.array(apacheStamp, { minLength: 1, maxLength: 30 }), (stamps) => {
        for (const s of stamps)
          expect(time(parseApacheErrorTime(s))).toBe(time(parseApacheErrorTimeUncached(s)));
      }),
      { numRuns: 400 },
    );
  });

  it("a repeated second with another fraction keeps its own milliseconds", () => {
    expect(parseApacheErrorTime("Mon Jan 05 00:00:00.100000 2026")?.getMilliseconds()).toBe(100);
    expect(parseApacheErrorTime("Mon Jan 05 00:00:00.999999 2026")?.getMilliseconds()).toBe(999);
    expect(parseApacheErrorTime("Mon Jan 05 00:00:00 2026")?.getMilliseconds()).toBe(0);
    // Same head and tail as a valid stamp, but the "fraction" sits inside the month: no stamp.
    expect(parseApacheErrorTime("Thu N.123ov 26 00:00:00 2026")).toBeNull();
    // A valid stamp, then the same text with a "fraction" after the year: no stamp.
    expect(parseApacheErrorTime("Mon Jan 05 00:00:00 2026")).not.toBeNull();
    expect(parseApacheErrorTime("Mon Jan 05 00:00:00 2026.5")).toBeNull();
  });

  it("fractionMsAt reads the digits as Number() reads the fraction, up to 15 digits and past them", () => {
    const frac = fc.stringMatching(/^\.\d{1,22}$/);
    fc.assert(
      fc.property(fc.string({ maxLength: 4 }), frac, fc.string({ maxLength: 4 }), (before, f, after) => {
        const s = before + f + after;
        const dot = before.length;
        expect(fractionMsAt(s, dot, dot + f.length)).toBe(fractionMs(f));
      }),
      { numRuns: 3000 },
    );
    // Fractions whose double lies just below a whole millisecond.
    for (const f of [".001", ".29", ".57", ".999999", ".1005", ".123456789012345", ".0000000000000001"])
      expect(fractionMsAt(f, 0, f.length)).toBe(fractionMs(f));
    // Every millisecond boundary with six digits (the Apache 2.4 fraction), where rounding would show.
    for (let ms = 0; ms < 1000; ms++) {
      for (const us of [0, 1, 999]) {
        const f = `.${String(ms * 1000 + us).padStart(6, "0")}`;
        expect(fractionMsAt(f, 0, f.length)).toBe(fractionMs(f));
      }
    }
  });

  it("parseNginxErrorTime gives what the plain parse gives, and a fresh Date per line", () => {
    const stamp = fc
      .tuple(
        pick(["2026/01/05", "2026/13/05", "2026/1/05", "x"]),
        pick([" 00:00:00", " 23:59:60", ""]),
        pick(["", " "]),
      )
      .map(([d, t, pad]) => `${pad}${d}${t}`);
    fc.assert(
      fc.property(fc.array(stamp, { minLength: 1, maxLength: 20 }), (stamps) => {
        for (const s of stamps) expect(time(parseNginxErrorTime(s))).toBe(time(refNginxTime(s)));
      }),
    );
    const near = fc
      .array(pick(["0", "1", "2", "9", "/", ":", " ", "a", "\u0660"]), { minLength: 17, maxLength: 21 })
      .map((cs) => cs.join(""));
    fc.assert(
      fc.property(near, (s) => {
        expect(time(parseNginxErrorTime(s))).toBe(time(refNginxTime(s)));
      }),
      { numRuns: 2000 },
    );
    const a = parseNginxErrorTime("2026/01/05 00:00:00");
    expect(parseNginxErrorTime("2026/01/05 00:00:00")).not.toBe(a);
  });
});

describe("clientAddress", () => {
  it("gives what the patterns alone give", () => {
    const piece = pick(["10", "1", "255", "300", ".", ":", "::", "ffff", "[", "]", '"', " ", "a", "0"]);
    const raw = fc.oneof(
      fc.array(piece, { maxLength: 10 }).map((p) => p.join("")),
      fc
        .tuple(fc.ipV4(), fc.option(fc.integer({ min: 0, max: 9_999_999 })))
        .map(([ip, port]) => (port === null ? ip : `${ip}:${port}`)),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(raw, fc.boolean(), (r, withPort) => {
        expect(clientAddress(r, withPort)).toBe(refClient(r, withPort));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("fillReason", () => {
  it("gives what a replace over the template gives", () => {
    const part = pick(["{file}", "{status}", "{user}", "{", "}", "{x y}", "text ", "{constructor}", "{}"]);
    const fields = fc.dictionary(pick(["file", "user", "zone"]), fc.string({ maxLength: 5 }));
    const status = fc.option(fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }), {
      nil: undefined,
    });
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), fields, status, (parts, f, st) => {
        const t = parts.join("");
        expect(fillReason(t, f, st)).toBe(refFill(t, f, st));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("WAF message fields", () => {
  it("each field read is the first match of its pattern, decoys and escapes included", () => {
    const piece = pick([
      '[id "942100"] ',
      '[id "9',
      '[id "a\\"b"] ',
      '[msg "x [id \\"1\\"] y"] ',
      '[uri "/a"] ',
      "[uri ",
      '"] ',
      '[unique_id "Zb1"] ',
      '[data "d"] ',
      "Access denied with code 401 ",
      "\\",
      "x ",
    ]);
    const action = pick(["Warning. ", "Access denied with code 403 (phase 2). ", "Access dropped. "]);
    fc.assert(
      fc.property(action, fc.array(piece, { maxLength: 10 }), (act, pieces) => {
        const text = `ModSecurity: ${act}${pieces.join("")}`;
        const w = parseWafMessage(text);
        const ref = (name: string) => new RegExp(wafFieldPattern(name)).exec(text)?.[1] ?? null;
        const disruptive = !act.startsWith("Warning");
        const status = /Access denied with code (\d{3})/.exec(text);
        expect(w).not.toBeNull();
        expect([w?.ruleId, w?.msg, w?.uri, w?.uniqueId]).toEqual(["id", "msg", "uri", "unique_id"].map(ref));
        expect(w?.disruptive).toBe(disruptive);
        expect(w?.status).toBe(disruptive && status ? Number(status[1]) : null);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("Apache WAF lines", () => {
  it("the client is the header's, else the message's, as when parseWafMessage read it first", () => {
    const header = pick([
      "[client 10.0.0.1:5555] ",
      "[client ::1:80] ",
      "[client -] ",
      "[client  ] ",
      "[remote 10.0.0.2:1] ",
      "",
    ]);
    // "[client a[b]" is a client to the message's pattern and none to the format's.
    const inner = pick(["[client 10.9.9.9] ", '[client "10.8.8.8"] ', "[client ] ", "[client a[b] ", ""]);
    const level = pick(["[security2:error] ", "[error] "]);
    const action = pick(["Warning. ", "Access denied with code 403 (phase 2). "]);
    fc.assert(
      fc.property(level, header, inner, action, (lv, h, i, act) => {
        const rest = `${h}${i}ModSecurity: ${act}[id "942100"] [uri "/x"] [unique_id "u1"]`;
        const line = `[Mon Jan 05 00:00:00.5 2026] ${lv}${rest}`;
        const rec = parseApacheErrorLine(line, "f", 1, "apache-error");
        const fields: Record<string, string> = { rest };
        addExtracted(formatById("apache-error"), fields, "client");
        const clientField = fields.client;
        const withPort = lv.includes(":");
        const want = clientField ? clientAddress(clientField, withPort) : parseWafMessage(rest)?.client;
        expect(rec?.client).toBe(want ?? null);
        expect(parseWafMessage(rest)?.client).toBe(wafClient(rest));
        expect(parseWafMessage(rest, false)?.client).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});

describe("Apache refusal lines", () => {
  it("the client is read with the port rule of the line's version, once or twice", () => {
    const client = pick(["10.0.0.1:5555", "10.0.0.1", "::1:80", "-", "[::1]:80", "host:1", " 10.0.0.3:9 "]);
    const level = pick(["[authz_core:error] ", "[error] ", "[:error] "]);
    fc.assert(
      fc.property(level, client, (lv, c) => {
        const line = `[Mon Jan 05 00:00:00.5 2026] ${lv}[client ${c}] AH01630: client denied by server configuration: /x`;
        const rec = parseApacheErrorLine(line, "f", 1, "apache-error");
        expect(rec?.client).toBe(clientAddress(c, lv.includes(":")));
      }),
      { numRuns: 100 },
    );
  });
});

describe("newRecord", () => {
  it("is makeRecord's record, keys in the same order", () => {
    const a = newRecord("f", 3, "nginx-error", "error", "nginx");
    const b = makeRecord({ file: "f", line: 3, format: "nginx-error", kind: "error", product: "nginx" });
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(a).toEqual(b);
  });
});

describe("restOfLineExec", () => {
  const header = fc.array(
    pick([
      "2026/01/05 00:00:01",
      " [error] ",
      "812#812: ",
      "*3 ",
      "[Mon Jan 05 00:00:01.5 2026] ",
      "[core:error] ",
      "x",
      "\r",
      "\u2028",
      "\n",
      "[",
      "] ",
      " ",
    ]),
    { maxLength: 8 },
  );
  const lines = fc.tuple(header, fc.string({ maxLength: 12 })).map(([h, rest]) => h.join("") + rest);
  const patterns = [
    formatById("nginx-error").re as RegExp,
    formatById("apache-error").re as RegExp,
    /\[(\w+)\] (?:\*(\d+) )?(.*)$/,
  ];

  it.each(patterns.map((re) => [re.source, re] as const))("gives the full pattern's groups: %s", (_, re) => {
    const exec = restOfLineExec(re);
    expect(exec).not.toBeNull();
    fc.assert(
      fc.property(lines, (line) => {
        const want = re.exec(line);
        const got = exec?.(line) ?? null;
        expect(got === null ? null : [...got]).toEqual(want === null ? null : [...want]);
        expect(got?.index).toBe(want?.index);
      }),
      { numRuns: 1500 },
    );
  });

  it("leaves other patterns alone", () => {
    expect(restOfLineExec(/^a|b(.*)$/)).toBeNull();
    expect(restOfLineExec(/^a(.*)$/m)).toBeNull();
    expect(restOfLineExec(/^a(.*)/)).toBeNull();
    expect(restOfLineExec(/^a\\(.*)$/)).toBeNull();
  });
});

describe("mayHoldRecord's recent hints", () => {
  it("answers as a fresh prefilter does, whatever lines came before", () => {
    const piece = pick([
      "ModSecurity: ",
      "limiting requests",
      "closed keepalive connection",
      "access forbidden by rule",
      '" 403 ',
      " 200 ",
      "Permission",
      " denied",
      "AH01630:",
      "AH0163",
      "[info] ",
      "x",
    ]);
    const line = fc.array(piece, { maxLength: 6 }).map((p) => p.join(""));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), (ls) => {
        const warm = new LinePrefilter(false);
        for (const l of ls) expect(warm.mayHoldRecord(l)).toBe(new LinePrefilter(false).mayHoldRecord(l));
      }),
      { numRuns: 500 },
    );
  });
});

/** The generated pieces do not always make a pattern ("^*"): those are left out. */
function patternOrNull(src: string): RegExp | null {
  try {
    return new RegExp(src);
  } catch {
    return null;
  }
}

describe("literalPrefix", () => {
  it("reads the plain text after ^ and no further", () => {
    expect(literalPrefix("^limiting requests, excess: ([\\d.]+)")).toBe("limiting requests, excess: ");
    expect(literalPrefix("^access forbidden by (?:auth_request|satisfy)")).toBe("access forbidden by ");
    expect(literalPrefix("^ab*c")).toBe("a");
    expect(literalPrefix("^ab+c")).toBe("ab");
    expect(literalPrefix("^a\\.b\\d")).toBe("a.b");
    expect(literalPrefix("^ab|cd")).toBe("");
    expect(literalPrefix("ab")).toBe("");
    expect(literalPrefix("^(?:AH01630: )?client")).toBe("");
  });

  it("every match of a pattern starts with its prefix", () => {
    const piece = pick([
      "^",
      "a",
      "b",
      ".",
      "\\.",
      "\\d",
      "*",
      "+",
      "?",
      "{1,2}",
      "(?:a|b)",
      "|",
      "[ab]",
      " ",
      "\\(",
      "(",
      ")",
    ]);
    const text = fc
      .array(pick(["a", "b", ".", "1", " ", "(", "ab", "ba"]), { maxLength: 8 })
      .map((p) => p.join(""));
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 8 }),
        fc.array(text, { minLength: 1, maxLength: 10 }),
        (ps, texts) => {
          const src = `^${ps.join("")}`;
          const re = patternOrNull(src);
          fc.pre(re !== null);
          const prefix = literalPrefix(src);
          // Never both: a text the pattern matches that lacks its literal prefix.
          expect(texts.filter((t) => re?.test(t) === true && !t.startsWith(prefix))).toEqual([]);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
