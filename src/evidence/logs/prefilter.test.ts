// The prefilter may only skip lines that yield nothing the join keeps: checked
// against the full parsers on real-looking lines, their mutations and noise.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accessRecordFromBytes } from "./access.js";
import { LineDispatcher } from "./dispatch.js";
import { compileLogFormat } from "./log-format.js";
import { ACCESS_REFUSED, LinePrefilter } from "./prefilter.js";

const SEEDS = [
  '10.1.2.3 - - [05/Jan/2026:00:00:01 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "curl/8.5.0"',
  '10.1.2.3 - - [05/Jan/2026:00:00:01 +0000] "POST /admin HTTP/1.1" 403 153 "-" "Mozilla/5.0"',
  '10.1.2.3 - - [05/Jan/2026:00:00:01 +0000] "GET /x?a=\\"b\\" HTTP/1.1" 404 0',
  'shop.test:443 10.1.2.3 - bob [05/Jan/2026:00:00:01 +0000] "GET / HTTP/1.1" 429 0 "-" "ua" rid=abc',
  '::1 - - [05/Jan/2026:00:00:01 +0000] "GET / HTTP/2.0" 200 1 "-" "ua"',
  '[::1] - - [05/Jan/2026:00:00:01 +0000] "GET / HTTP/1.1" 401 1',
  '10.1.2.3 - - [05/Jan/2026:00:00:01] "GET / HTTP/1.1" 200 1',
  '2026/01/05 00:00:01 [error] 812#812: *3 access forbidden by rule, client: 10.1.2.3, server: x, request: "GET / HTTP/1.1"',
  "2026/01/05 00:00:01 [info] 812#812: *3 client 10.1.2.3 closed keepalive connection",
  "[Mon Jan 05 00:00:01.123456 2026] [authz_core:error] [pid 1:tid 2] [client 10.1.2.3:5] AH01630: client denied by server configuration: /srv/x",
  '[Mon Jan 05 00:00:01.123456 2026] [security2:error] [client 10.1.2.3] ModSecurity: Warning. [id "942100"] [unique_id "Zb1"]',
  '{"level":"warn","msg":"forbidden","status":403}',
  '{"level":50,"time":1,"msg":"request completed","res":{"statusCode":200}}',
  '{"message":"too many","code":"requests","level":"error"}',
  '{"transaction":{"unique_id":"x"}}',
  '2026-01-05T00:00:01Z ERR Coraza: Access denied (phase 1) [id "1"]',
  "--abcd1234-A--",
  '10.1.2.3 - - [05/Jan/2026:00:00:01 +0000] "POST /a?x=\\"y\\" HTTP/1.1" 403 12 "-" "ua \\"q\\"" rid=r1 x_request_id="abc"',
  'shop.test:8080 ::ffff:10.1.2.3 - - [05/Jan/2026:00:00:01 +0100] "DELETE /x HTTP/2.0" 401 - "ref" "ua" 0123456789abcdef0123456789abcdef',
  '10.1.2.3 - - [05/Jan/2026:00:00:01 -0500] "garbled" 429 7 "ref"',
  '[::1]:80 10.1.2.3 - - [05/Jan/2026:00:00:01 +0000] "GET / HTTP/1.1" 451 0 "a" "b"  \t',
  // logfmt (logfmt.ts): statuses spelt as Number() reads them, quoted values, denial words, dotted keys.
  'time=2026-01-05T00:00:01Z level=warn msg="request refused" method=POST path=/a status=403',
  "time=2026-01-05T00:00:01Z level=info msg=done method=GET path=/ status=200 dur=4.03e2",
  't=2026-01-05T00:00:01+0000 lvl=eror msg="too many" code=requests remote_addr=10.1.2.3',
  'level=error msg="rate" code=limit req.method=POST http.status_code="0x193"',
  'at=info method=POST path="/x" fwd="10.1.2.3" status=" 401" bytes=12',
  'level=warn msg="access den\\ied" path=/b ip=10.1.2.3',
  "2026-01-05T00:00:01.5+00:00 heroku[router]: at=info method=POST path=/c status=429 fwd=10.1.2.3",
  // Cloud WAF JSON lines (data/logs/formats/): refusals that may hold no refusal status or denial word.
  '{"timestamp":1795582802000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/a/b","terminatingRuleId":"r1","terminatingRuleType":"REGULAR","action":"BLOCK","httpRequest":{"clientIp":"10.1.2.3","uri":"/a","httpMethod":"POST"}}',
  '{"timestamp":1795582802000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/a/b","terminatingRuleId":"c1","terminatingRuleType":"REGULAR","action":"CHALLENGE","httpRequest":{"clientIp":"10.1.2.3","uri":"/b"}}',
  '{"RayID":"8c1f2e3d4a5b6c7d","EdgeResponseStatus":400,"ClientRequestURI":"/x","ClientIP":"10.1.2.3","SecurityAction":"block","SecuritySources":["firewallCustom"]}',
  '{"jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","enforcedSecurityPolicy":{"name":"p","priority":7,"configuredAction":"DENY","outcome":"DENY"}},"httpRequest":{"requestUrl":"https://x/a","status":502}}',
  '{"time":"2026-01-05T00:00:01Z","category":"FrontDoorWebApplicationFirewallLog","properties":{"clientIP":"10.1.2.3","requestUri":"https://x/a","ruleName":"r","action":"Block"}}',
];
const PIECES = [
  " ",
  "  ",
  '"',
  "\\",
  "[",
  "]",
  "\r",
  "\u2028",
  "\u00a0",
  "é",
  "403",
  "200",
  ":80",
  "\t",
  "-",
  "{",
];

const line = fc.oneof(
  fc.constantFrom(...SEEDS),
  fc
    .tuple(fc.constantFrom(...SEEDS), fc.nat(200), fc.nat(4), fc.constantFrom(...PIECES))
    .map(([s, at, drop, piece]) => {
      const i = at % (s.length + 1);
      return s.slice(0, i) + piece + s.slice(i + drop);
    }),
  fc.string({ maxLength: 120 }),
);

/** Access lines changed in or beside their time field (where the short path looks). */
const nearTime = fc
  .tuple(
    fc.constantFrom(SEEDS[0] as string, SEEDS[1] as string),
    fc.integer({ min: 12, max: 46 }),
    fc.nat(2),
    fc.constantFrom(...PIECES, "x", "]", "[", '"', "+0000"),
  )
  .map(([s, i, drop, piece]) => s.slice(0, i) + piece + s.slice(i + drop));

/** What the join would keep of a line: any record but a non-refused access record. */
function kept(d: LineDispatcher, text: string): boolean {
  return d.feed({ n: 1, text, cut: false }).records.some((r) => r.kind !== "access" || r.denied);
}

function skipped(p: LinePrefilter, text: string): boolean {
  const buf = Buffer.from(text);
  p.newChunk(buf);
  return p.accessSkip(buf, 0, buf.length) || !p.mayHoldRecord(buf.toString("utf8"));
}

describe("LinePrefilter", () => {
  it("skips the plain access lines that were not refused", () => {
    const p = new LinePrefilter(false);
    expect(skipped(p, SEEDS[0] as string)).toBe(true);
    expect(skipped(p, SEEDS[2] as string)).toBe(true);
    expect(skipped(p, SEEDS[4] as string)).toBe(true);
    expect(skipped(p, SEEDS[8] as string)).toBe(true);
    expect(skipped(p, SEEDS[1] as string)).toBe(false);
    expect(skipped(p, SEEDS[3] as string)).toBe(false);
  });

  it("never skips a line the parsers would keep", () => {
    const custom = compileLogFormat("f", '%h %t "%r" %>s %{X-Request-Id}i');
    fc.assert(
      fc.property(line, fc.boolean(), (text, withCustom) => {
        const formats = withCustom && custom ? [custom] : [];
        const p = new LinePrefilter(formats.length > 0);
        // Skipped implies not kept: never both.
        expect(skipped(p, text) && kept(new LineDispatcher("f.log", formats), text)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it("builds a refused access line's record from bytes exactly as the access parser does", () => {
    let built = 0;
    fc.assert(
      fc.property(line, (text) => {
        const p = new LinePrefilter(false);
        const buf = Buffer.from(text);
        p.newChunk(buf);
        if (p.accessCheck(buf, 0, buf.length) !== ACCESS_REFUSED) return;
        const rec = accessRecordFromBytes(buf, buf.length, p.refused, "f.log", 1);
        if (!rec) return;
        built++;
        const [parsed] = new LineDispatcher("f.log", []).feed({ n: 1, text, cut: false }).records;
        expect(rec).toEqual(parsed);
      }),
      { numRuns: 5000 },
    );
    expect(built).toBeGreaterThan(100);
  });

  it("decides a line the same after any line before it (the time of the line before is reused)", () => {
    let refusedSeen = 0;
    fc.assert(
      fc.property(line, fc.oneof(line, nearTime), (before, text) => {
        const p = new LinePrefilter(false);
        skipped(p, before);
        const buf = Buffer.from(text);
        p.newChunk(buf);
        const fresh = new LinePrefilter(false);
        fresh.newChunk(buf);
        const verdict = p.accessCheck(buf, 0, buf.length);
        expect(verdict).toBe(fresh.accessCheck(buf, 0, buf.length));
        if (verdict !== ACCESS_REFUSED) return;
        refusedSeen++;
        expect(p.refused).toEqual(fresh.refused);
        const rec = accessRecordFromBytes(buf, buf.length, p.refused, "f.log", 1);
        const [parsed] = new LineDispatcher("f.log", []).feed({ n: 1, text, cut: false }).records;
        // null: the byte reader hands the line to the parsers, as it does in use (the test
        // above counts that it builds most refused lines itself); otherwise its record is theirs.
        expect(rec ?? parsed).toEqual(parsed);
      }),
      { numRuns: 20000 },
    );
    expect(refusedSeen).toBeGreaterThan(500);
  });
});
