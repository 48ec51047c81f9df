import { describe, expect, it } from "vitest";
import { guessFamily } from "../evidence/content/families.js";
import type { RequestModel } from "../model.js";
import type { Outcome } from "./ddmin.js";
import { minimizeRequest, tokenize } from "./minimize.js";

function post(
  body: string,
  contentType: string,
  extra: Array<[string, string]> = [],
  url = "http://127.0.0.1:1/.well-known/why403/x",
): RequestModel {
  return {
    method: "POST",
    url,
    headers: [["Host", "shop.test"], ["Content-Type", contentType], ...extra],
    body: Buffer.from(body),
    options: {},
  };
}

function wholeText(r: RequestModel): string {
  const cookies = r.headers.filter(([n]) => n.toLowerCase() === "cookie").map(([, v]) => v);
  const headers = r.headers.map(([n, v]) => `${n}: ${v}`).join("\n");
  let body = r.body?.toString("utf8") ?? "";
  if (r.headers.some(([n, v]) => n === "Content-Type" && v.includes("urlencoded"))) {
    body = decodeURIComponent(body.replace(/\+/g, " "));
  }
  return `${decodeURIComponent(r.url)}\n${headers}\n${cookies.join(";")}\n${body}`;
}

/** Refuses when the text contains a SQL-injection-like tautology. */
const sqli = async (r: RequestModel): Promise<Outcome> =>
  /'\s*or\s+1=1/i.test(wholeText(r)) ? "fail" : "pass";

function jsonWithFields(n: number, triggerAt: number): string {
  const obj: Record<string, string> = {};
  for (let i = 0; i < n; i++) obj[`field${i}`] = i === triggerAt ? "x' or 1=1--" : `value number ${i}`;
  return JSON.stringify(obj);
}

describe("minimizeRequest on JSON", () => {
  for (const [n, bound] of [
    [10, 25],
    [100, 32],
    [1000, 40],
  ] as const) {
    it(`finds one trigger among ${n} fields within ${bound} probes`, async () => {
      const r = await minimizeRequest(
        post(jsonWithFields(n, Math.floor(n * 0.61)), "application/json"),
        sqli,
        {
          maxTests: 100,
        },
      );
      expect(r.followsContent).toBe(true);
      expect(r.parts).toHaveLength(1);
      expect(r.parts[0]!.name).toBe(`$.field${Math.floor(n * 0.61)}`);
      expect(r.parts[0]!.location).toBe("body");
      expect(r.parts[0]!.value).toMatch(/^'\s*or\s+1=1$/i);
      expect(r.tests).toBeLessThanOrEqual(bound);
      console.log(`[delta] ${n} JSON fields, one trigger: ${r.tests} probes`);
    });
  }

  it("names nested members and array elements by JSON path", async () => {
    const body = JSON.stringify({
      a: { b: [{ c: "fine" }, { c: "fine" }, { c: "<script>alert(1)</script>", d: 1 }], e: "ok" },
      f: [1, 2, 3],
    });
    const xss = async (r: RequestModel): Promise<Outcome> =>
      /<script>/i.test(wholeText(r)) ? "fail" : "pass";
    const r = await minimizeRequest(post(body, "application/json"), xss, { maxTests: 60 });
    expect(r.parts.map((p) => p.name)).toEqual(["$.a.b[2].c"]);
    expect(r.parts[0]!.value).toBe("<script>");
    expect(guessFamily(r.parts[0]!.value)).toBe("XSS");
  });

  it("reports both fragments when a sum of scores needs two (CRS-like)", async () => {
    const obj: Record<string, string> = {};
    for (let i = 0; i < 200; i++) obj[`k${i}`] = `plain ${i}`;
    obj.k17 = "union all";
    obj.k160 = "select password from users";
    // Each pattern scores 3; the threshold is 5, so only both together block.
    const crs = async (r: RequestModel): Promise<Outcome> => {
      const t = wholeText(r);
      const score = (/\bunion\b/i.test(t) ? 3 : 0) + (/\bselect\b[\s\S]*\bfrom\b/i.test(t) ? 3 : 0);
      return score >= 5 ? "fail" : "pass";
    };
    const r = await minimizeRequest(post(JSON.stringify(obj), "application/json"), crs, { maxTests: 80 });
    expect(r.parts.map((p) => p.name).sort()).toEqual(["$.k160", "$.k17"]);
    const values = Object.fromEntries(r.parts.map((p) => [p.name, p.value]));
    expect(values["$.k17"]).toBe("union");
    expect(values["$.k160"]).toBe("select password from");
    // 1-minimal: without either part, it passes.
    expect(r.exhausted).toBe(false);
  });

  it("says when the refusal does not follow the content", async () => {
    const r = await minimizeRequest(post('{"a":"b"}', "application/json"), async () => "fail", {
      maxTests: 10,
    });
    expect(r.followsContent).toBe(false);
    expect(r.tests).toBe(1);
  });

  it("stops at the budget with the best failing set so far", async () => {
    const r = await minimizeRequest(post(jsonWithFields(1000, 10), "application/json"), sqli, {
      maxTests: 5,
    });
    expect(r.tests).toBe(5);
    expect(r.exhausted).toBe(true);
  });
});

describe("minimizeRequest on other formats", () => {
  it("form fields, then the value's characters", async () => {
    const body = "user=alice&comment=hello+there&q=1%27+or+1%3D1--&csrf=abc";
    const r = await minimizeRequest(post(body, "application/x-www-form-urlencoded"), sqli, { maxTests: 40 });
    expect(r.parts).toHaveLength(1);
    expect(r.parts[0]).toMatchObject({ location: "body", name: "q" });
    expect(r.parts[0]!.value).toMatch(/^'\s*or\s+1=1$/);
    expect(r.minimalRequest!.body!.toString()).toMatch(/^q=/);
  });

  it("multipart parts by field name, files passed through", async () => {
    const b = "XyZ";
    const body = [
      `--${b}`,
      'Content-Disposition: form-data; name="title"',
      "",
      "hello",
      `--${b}`,
      'Content-Disposition: form-data; name="upload"; filename="a.bin"',
      "Content-Type: application/octet-stream",
      "",
      "\u0000\u0001binary",
      `--${b}`,
      'Content-Disposition: form-data; name="note"',
      "",
      "see ../../../../etc/passwd now",
      `--${b}--`,
      "",
    ].join("\r\n");
    const traversal = async (r: RequestModel): Promise<Outcome> =>
      /\.\.\/.*etc\/passwd/.test(wholeText(r)) ? "fail" : "pass";
    const r = await minimizeRequest(post(body, `multipart/form-data; boundary=${b}`), traversal, {
      maxTests: 60,
    });
    expect(r.parts.map((p) => p.name)).toEqual(["note"]);
    expect(r.parts[0]!.value).toBe("../etc/passwd");
    expect(guessFamily(r.parts[0]!.value)).toBe("path traversal");
    const rendered = r.minimalRequest!.body!.toString("latin1");
    expect(rendered).toContain(`--${b}--`);
    expect(rendered).not.toContain("title");
  });

  it("text and XML: lines, tokens, characters", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `<item id="${i}">ordinary text ${i}</item>`);
    lines[31] = `<item id="31">run ; cat /etc/hosts please</item>`;
    const cmd = async (r: RequestModel): Promise<Outcome> =>
      /;\s*cat\b/.test(r.body?.toString() ?? "") ? "fail" : "pass";
    const r = await minimizeRequest(post(lines.join("\n"), "application/xml"), cmd, { maxTests: 40 });
    expect(r.parts).toHaveLength(1);
    expect(r.parts[0]!.name).toBe("line 32");
    expect(r.parts[0]!.value).toBe("; cat");
    expect(guessFamily("; cat /etc/hosts")).toBe("command injection");
  });

  it("query parameters", async () => {
    const req: RequestModel = {
      method: "GET",
      url: "http://127.0.0.1:1/search?page=2&sort=asc&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&lang=en",
      headers: [["Host", "shop.test"]],
      body: null,
      options: {},
    };
    const xss = async (r: RequestModel): Promise<Outcome> =>
      /<script>/i.test(decodeURIComponent(r.url)) ? "fail" : "pass";
    const r = await minimizeRequest(req, xss, { maxTests: 40 });
    expect(r.parts).toEqual([expect.objectContaining({ location: "query", name: "q", value: "<script>" })]);
    expect(r.minimalRequest!.url).toContain("?q=");
    expect(r.minimalRequest!.url).toContain("/search");
  });

  it("cookies and headers, with essential headers kept", async () => {
    const req = post("{}", "application/json", [
      ["Cookie", "session=abc123; theme=dark; pref=1' or 1=1"],
      ["User-Agent", "Mozilla/5.0"],
      ["Accept", "*/*"],
    ]);
    const r = await minimizeRequest(req, sqli, { maxTests: 40 });
    expect(r.parts).toEqual([expect.objectContaining({ location: "cookie", name: "pref" })]);
    const m = r.minimalRequest!;
    expect(m.headers.find(([n]) => n === "Host")?.[1]).toBe("shop.test");
    expect(m.headers.find(([n]) => n === "Content-Type")).toBeTruthy();
    expect(m.headers.find(([n]) => n === "Cookie")?.[1]).toMatch(/^pref=/);

    const ua = post("{}", "application/json", [
      ["User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"],
      ["Accept", "*/*"],
      ["X-Trace", "1"],
    ]);
    const scanner = async (r: RequestModel): Promise<Outcome> =>
      r.headers.some(([n, v]) => n === "User-Agent" && /sqlmap/i.test(v)) ? "fail" : "pass";
    const u = await minimizeRequest(ua, scanner, { maxTests: 40 });
    expect(u.parts).toEqual([
      expect.objectContaining({ location: "header", name: "User-Agent", value: "sqlmap" }),
    ]);
    expect(guessFamily("sqlmap", "header", "User-Agent")).toBe("scanner user agent");
  });

  it("a trigger spanning body and header is reported in both places", async () => {
    const req = post('{"a":"union all","b":"x"}', "application/json", [
      ["X-Note", "select 1 from t"],
      ["Accept", "*/*"],
    ]);
    const crs = async (r: RequestModel): Promise<Outcome> => {
      const t = wholeText(r);
      return (/\bunion\b/.test(t) ? 3 : 0) + (/select[\s\S]*from/.test(t) ? 3 : 0) >= 5 ? "fail" : "pass";
    };
    const r = await minimizeRequest(req, crs, { maxTests: 60 });
    expect(r.parts.map((p) => `${p.location}:${p.name}`).sort()).toEqual(["body:$.a", "header:X-Note"]);
  });

  it("tokenizes words, spaces and punctuation", () => {
    expect(tokenize("a' or 1=1--")).toEqual(["a", "'", " ", "or", " ", "1", "=", "1", "-", "-"]);
  });
});

describe("minimizeRequest sends no request twice", () => {
  it("answers a window equal to a failed seed from the first probe", async () => {
    // The rule needs `onclick="`; the seed `onclick=` passes, and the character trim of
    // the window's right end builds `onclick=` once more.
    const sent: string[] = [];
    const rule = async (r: RequestModel): Promise<Outcome> => {
      sent.push(`${r.url}\n${JSON.stringify(r.headers)}\n${r.body?.toString("latin1") ?? ""}`);
      return decodeURIComponent((r.body?.toString("utf8") ?? "").replace(/\+/g, " ")).includes('onclick="')
        ? "fail"
        : "pass";
    };
    const r = await minimizeRequest(
      post(
        'payload=x" onclick="#@~^CAAAAA==C^ .D`8#mgIAAA==^#~@">XSS</a>',
        "application/x-www-form-urlencoded",
      ),
      rule,
      { maxTests: 40, seed: (v) => (v.includes("onclick=") ? "onclick=" : null) },
    );
    expect(r.parts[0]!.value).toBe('onclick="');
    expect(new Set(sent).size).toBe(sent.length);
    expect(r.tests).toBe(sent.length);
  });
});
