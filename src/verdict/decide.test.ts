import { describe, expect, it } from "vitest";
import type { CauseId, Evidence, Responder, Trigger } from "../model.js";
import { confidences, decide, NONE_LOGIT, scoreCauses, VERDICT_THRESHOLD } from "./decide.js";

const unknown: Responder = { layer: "unknown", product: null, evidence: [] };
const ev = (weights: Evidence["weights"], fact = "a fact.", data?: Evidence["data"]): Evidence => ({
  source: "response",
  fact,
  weights,
  data,
});
const base = {
  status: 403,
  mode: "recording" as const,
  target: { method: "POST", url: "https://shop.test/api/comments?x=1" },
};

describe("scoring", () => {
  it("sums per cause and ignores unknown causes", () => {
    const sums = scoreCauses([
      ev({ waf: 2, csrf: 1 }),
      ev({ waf: 1.5 }),
      ev({ bogus: 9 } as unknown as Evidence["weights"]),
    ]);
    expect(sums.get("waf")).toBe(3.5);
    expect(sums.get("csrf")).toBe(1);
    expect(sums.size).toBe(2);
  });
  it("softmax with a none-of-these prior: weak evidence stays unsure", () => {
    const [weak] = confidences(new Map([["waf", 1]]));
    expect(weak!.confidence).toBeLessThan(VERDICT_THRESHOLD);
    const [strong] = confidences(new Map([["waf", NONE_LOGIT + 3]]));
    expect(strong!.confidence).toBeGreaterThan(0.9);
    expect(confidences(new Map([["waf", -2]]))).toEqual([]);
  });
});

interface Row {
  name: string;
  evidence: Evidence[];
  responder?: Responder;
  trigger?: Trigger | null;
  mode?: "recording" | "live";
  cause: CauseId | null;
  summary?: RegExp;
  fix?: RegExp;
  nextSteps?: RegExp;
}

const rows: Row[] = [
  {
    name: "ModSecurity with a trigger",
    evidence: [
      ev({ waf: 5 }, "ModSecurity rule 942100 matched.", { ruleId: "942100", product: "modsecurity" }),
      ev({ csrf: 0.5 }),
    ],
    responder: { layer: "waf", product: "modsecurity", evidence: [] },
    trigger: { location: "body", name: "comment", minimal: "' or 1=1--" },
    cause: "waf",
    summary:
      /^ModSecurity refused POST \/api\/comments because .*triggered by the body field comment \("' or 1=1--"\)/,
    fix: /SecRuleUpdateTargetById 942100 "!ARGS:comment"/,
  },
  {
    name: "JSON trigger maps to ARGS:json.*",
    evidence: [ev({ waf: 6 }, "blocked.", { ruleIds: ["942100", "949110"] })],
    responder: { layer: "waf", product: "modsecurity", evidence: [] },
    trigger: { location: "body", name: "$.comment", minimal: "x" },
    cause: "waf",
    fix: /ctl:ruleRemoveTargetById=942100;ARGS:json\.comment/,
  },
  {
    name: "Cloudflare WAF uses the Ray ID",
    evidence: [ev({ waf: 5 }, "Cloudflare block page.")],
    responder: {
      layer: "cdn",
      product: "cloudflare",
      evidence: [],
      references: [{ label: "Cloudflare Ray ID", value: "8a1b2c3d4e5f6789" }],
    },
    cause: "waf",
    fix: /Ray ID 8a1b2c3d4e5f6789/,
  },
  {
    name: "rate limit with reset time",
    evidence: [ev({ "rate-limit": 5 }, "429.", { resetAt: "2025-07-01T10:00:30.000Z" })],
    cause: "rate-limit",
    summary: /wait until 2025-07-01T10:00:30\.000Z/,
    fix: /^Wait until 2025-07-01T10:00:30\.000Z/,
  },
  {
    name: "Django CSRF origin",
    evidence: [ev({ csrf: 6 }, "Django CSRF.", { product: "django", origin: "https://front.test" })],
    responder: { layer: "application", product: null, evidence: [] },
    cause: "csrf",
    // Named only when the fingerprint identified the product.
    summary: /^The server refused/,
    fix: /CSRF_TRUSTED_ORIGINS = \["https:\/\/front\.test"\]/,
  },
  {
    name: "nginx IP deny with client",
    evidence: [ev({ "ip-restriction": 5 }, "deny matched.", { client: "203.0.113.7" })],
    responder: { layer: "web-server", product: "nginx", evidence: [] },
    cause: "ip-restriction",
    fix: /allow 203\.0\.113\.7;\n {2}deny all;/,
  },
  {
    name: "expired token and clock skew",
    evidence: [
      ev({ "credentials-invalid": 5 }, "expired.", {
        expired: true,
        exp: "2025-07-01T09:59:00.000Z",
        clockSkewSeconds: 600,
      }),
    ],
    cause: "credentials-invalid",
    fix: /differ by 600 s/,
  },
  {
    name: "insufficient scope",
    evidence: [ev({ "insufficient-permission": 5 }, "scope.", { scope: "items:write" })],
    cause: "insufficient-permission",
    summary: /scope items:write/,
  },
  {
    name: "redirect",
    evidence: [
      ev({ "redirect-method-change": 5 }, "POST became GET.", {
        location: "https://shop.test/api/comments/",
      }),
    ],
    cause: "redirect-method-change",
    fix: /final URL https:\/\/shop\.test\/api\/comments\//,
  },
  {
    name: "app logic message",
    evidence: [ev({ "app-logic": 4 }, "msg.", { message: "Order is already shipped" })],
    cause: "app-logic",
    summary: /Order is already shipped/,
  },
  {
    name: "thin nginx default page: no verdict, next steps",
    evidence: [ev({ "server-config": 1, "ip-restriction": 0.7, "fs-permission": 0.7 })],
    responder: { layer: "web-server", product: "nginx", evidence: [] },
    cause: null,
    nextSteps:
      /why403 curl -X POST 'https:\/\/shop\.test\/api\/comments\?x=1'[\s\S]*--server-logs[\s\S]*--nginx-conf/,
  },
  {
    name: "no evidence at all",
    evidence: [],
    cause: null,
    nextSteps: /why403 har <file\.har> --live[\s\S]*--apache-conf/,
  },
  {
    name: "two strong causes tie: no verdict",
    evidence: [ev({ waf: 4 }), ev({ csrf: 4 })],
    cause: null,
  },
  {
    name: "negative evidence rules out",
    evidence: [ev({ "rate-limit": 3 }), ev({ "rate-limit": -4 }), ev({ csrf: 4 })],
    cause: "csrf",
  },
];

describe("decide", () => {
  it.each(rows)("$name", (row) => {
    const d = decide({
      ...base,
      evidence: row.evidence,
      responder: row.responder ?? unknown,
      trigger: row.trigger,
      mode: row.mode ?? "recording",
    });
    expect(d.verdict?.cause ?? null).toBe(row.cause);
    // Every verdict (the rows with a cause) leads the candidates, is confident and complete.
    const v = d.verdict ?? null;
    expect(
      v && {
        first: d.candidates[0]?.cause,
        confident: v.confidence >= VERDICT_THRESHOLD,
        evidence: v.evidence.length > 0,
        fix: v.fix.length > 0,
        sentence: v.summary.endsWith("."),
      },
    ).toEqual(row.cause && { first: row.cause, confident: true, evidence: true, fix: true, sentence: true });
    // The texts a row pins down (only those it states).
    expect({
      summary: v?.summary,
      fix: v?.fix.join("\n"),
      nextSteps: d.nextSteps.join("\n"),
    }).toMatchObject({
      ...(row.summary && { summary: expect.stringMatching(row.summary) }),
      ...(row.fix && { fix: expect.stringMatching(row.fix) }),
      ...(row.nextSteps && { nextSteps: expect.stringMatching(row.nextSteps) }),
    });
    // Fix steps never show a raw template brace for a known placeholder.
    for (const f of d.verdict?.fix ?? [])
      expect(f).not.toMatch(/\{(?:path|origin|resetAt|scope|client|ruleId)\}/);
  });

  it("a step marked unless is dropped once its value is known", () => {
    const responder: Responder = { layer: "waf", product: "modsecurity", evidence: [] };
    const known = decide({ ...base, responder, evidence: [ev({ waf: 5 }, "x.", { ruleId: "942100" })] });
    const unknownRule = decide({ ...base, responder, evidence: [ev({ waf: 5 })] });
    expect(known.verdict?.fix.some((f) => f.startsWith("Find the rule id"))).toBe(false);
    expect(unknownRule.verdict?.fix.some((f) => f.startsWith("Find the rule id"))).toBe(true);
    expect(unknownRule.verdict?.summary).toMatch(/find the matched rule in the firewall log/);
  });

  it("verdict evidence lists supporting facts strongest first", () => {
    const d = decide({
      ...base,
      responder: unknown,
      evidence: [ev({ csrf: 2 }, "weak."), ev({ waf: 1 }, "other."), ev({ csrf: 5 }, "strong.")],
    });
    // Each fact carries its source in front.
    expect(d.verdict?.evidence).toEqual(["[response] strong.", "[response] weak."]);
  });

  it("a page that leaves causes open puts its separating step first among the asks for evidence", () => {
    const separate = ["The log's rule field tells an address rule from a content rule."];
    const page = ev({ waf: 3, "ip-restriction": 3 }, "page seen.", { separate });
    const d = decide({ ...base, responder: unknown, evidence: [page] });
    expect(d.verdict).toBeNull();
    expect(d.nextSteps).toContain(separate[0]);
    expect(d.nextSteps.indexOf(separate[0]!)).toBeLessThan(
      d.nextSteps.findIndex((t) => t.startsWith("Add the server's logs")),
    );
    // A page whose causes are not among the leading candidates does not steer the next steps.
    const elsewhere = decide({
      ...base,
      responder: unknown,
      evidence: [
        ev({ csrf: 4 }),
        ev({ waf: 3.5 }),
        ev({ "rate-limit": 3.4 }),
        ev({ "ip-restriction": 0.5 }, "p.", { separate }),
      ],
    });
    expect(elsewhere.verdict).toBeNull();
    expect(elsewhere.nextSteps.length).toBeGreaterThan(0);
    expect(elsewhere.nextSteps).not.toContain(separate[0]);
  });

  it("redacts the target URL in summaries and next steps", () => {
    const d = decide({
      ...base,
      target: { method: "POST", url: "https://shop.test/x?token=s3cr3t-123456" },
      responder: unknown,
      evidence: [],
    });
    expect(d.nextSteps.join("\n")).not.toContain("s3cr3t-123456");
  });

  it("confident live verdicts need no next steps; live csrf suggests side-effect probes when thin", () => {
    expect(
      decide({ ...base, mode: "live", responder: unknown, evidence: [ev({ waf: 8 })] }).nextSteps,
    ).toEqual([]);
    // Raw 0.57 maps to about 0.58 calibrated (data/calibration.json): a verdict, but a thin one.
    const thin = decide({ ...base, mode: "live", responder: unknown, evidence: [ev({ csrf: 2.3 })] });
    expect(thin.nextSteps.join("\n")).toMatch(/--allow-side-effects/);
  });
});
