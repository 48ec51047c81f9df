// DenialWatch in-process, one tick at a time: joins across files, bounded
// labels, files that appear later, truncation, and the CLI's bad input.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LogEntry } from "../../src/evidence/logs/types.js";
import { renderLiveView } from "../../src/watch/live-view.js";
import { RecentDenials } from "../../src/watch/recent.js";
import { parseListen } from "../../src/watch/server.js";
import { DenialWatch } from "../../src/watch/watch.js";
import { isOneLineError, runCli } from "../helpers/cli.js";
import { metricSum } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "why403-watch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function access(
  client: string,
  method: string,
  path: string,
  status: number,
  time = "02/Dec/2026:02:00:00",
): string {
  return `${client} - - [${time} +0000] "${method} ${path} HTTP/1.1" ${status} 153 "-" "t/1"\n`;
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function settle(w: DenialWatch, c: ReturnType<typeof clock>): Promise<void> {
  await w.tick();
  c.advance(5000);
  await w.tick();
}

describe("DenialWatch", () => {
  it("joins the access line and the error line of one request across two files: one denial", async () => {
    const a = join(dir, "j-access.log");
    const e = join(dir, "j-error.log");
    writeFileSync(a, "");
    writeFileSync(e, "");
    const c = clock();
    const got: LogEntry[] = [];
    const w = new DenialWatch([a, e], { now: c.now, onDenial: (x) => got.push(x) });
    await w.tick();
    appendFileSync(a, access("10.0.0.9", "GET", "/private/", 403));
    appendFileSync(
      e,
      '2026/12/02 02:00:00 [error] 7#7: *1 access forbidden by rule, client: 10.0.0.9, server: lab.test, request: "GET /private/ HTTP/1.1", host: "lab.test"\n',
    );
    await settle(w, c);
    expect(got).toHaveLength(1);
    expect(got[0]?.seenIn?.length).toBe(1);
    const m = w.metrics.render();
    expect(metricSum(m, "why403_denials_total")).toBe(1);
    expect(
      metricSum(m, "why403_denials_total", { layer: "web-server", product: "nginx", status: "403" }),
    ).toBe(1);
    expect(metricSum(m, "why403_lines_total")).toBe(2);
    await w.stop();
  });

  it("reads only new lines by default, all of them with fromStart, and a file that appears later from its start", async () => {
    const old = join(dir, "old.log");
    writeFileSync(old, access("10.0.0.1", "POST", "/a", 403));
    const late = join(dir, "late.log");
    const c = clock();
    const w = new DenialWatch([old, late], { now: c.now });
    await w.tick();
    appendFileSync(old, access("10.0.0.2", "POST", "/b", 429));
    writeFileSync(late, access("10.0.0.3", "POST", "/c", 401));
    await settle(w, c);
    const m = w.metrics.render();
    expect(metricSum(m, "why403_denials_total")).toBe(2);
    expect(metricSum(m, "why403_denials_total", { cause: "rate-limit" })).toBe(1);
    expect(metricSum(m, "why403_denials_total", { cause: "credentials-invalid" })).toBe(1);
    await w.stop();
    const all = new DenialWatch([old], { now: c.now, fromStart: true });
    await settle(all, c);
    expect(metricSum(all.metrics.render(), "why403_denials_total")).toBe(2);
    await all.stop();
  });

  it("caps WAF rule ids at 200 distinct label values and never labels paths or clients", async () => {
    const log = join(dir, "rules.log");
    writeFileSync(log, "");
    const c = clock();
    const w = new DenialWatch([log], { now: c.now });
    await w.tick();
    let text = "";
    for (let i = 0; i < 250; i++) {
      text += `2026/12/02 02:00:00 [error] 7#7: *${i} [client 10.1.${i >> 8}.${i & 255}] ModSecurity: Access denied with code 403 (phase 2). Matched "Operator \`Rx' with parameter \`x' against variable \`ARGS:q' (Value: \`x' ) [file "/r.conf"] [line "1"] [id "${100000 + i}"] [msg "test rule"] [hostname "h"] [uri "/secret-path-${i}"] [unique_id "u${i}"], client: 10.1.${i >> 8}.${i & 255}, server: s, request: "POST /secret-path-${i} HTTP/1.1", host: "h"\n`;
    }
    appendFileSync(log, text);
    await settle(w, c);
    const m = w.metrics.render();
    expect(metricSum(m, "why403_denials_total", { cause: "waf" })).toBe(250);
    const ruleLabels = new Set(
      [...m.matchAll(/^why403_rule_hits_total\{rule="([^"]*)"\}/gm)].map((x) => x[1]),
    );
    expect(ruleLabels.size).toBe(201);
    expect(ruleLabels.has("other")).toBe(true);
    expect(metricSum(m, "why403_rule_hits_total", { rule: "other" })).toBe(50);
    expect(metricSum(m, "why403_rule_hits_by_method_total", { method: "POST" })).toBe(250);
    expect(metricSum(m, "why403_distinct_clients", { cause: "waf" })).toBe(250);
    expect(m).not.toContain("secret-path");
    expect(m).not.toContain("10.1.");
    await w.stop();
  });

  it("forgets clients after five minutes in the distinct-clients gauge", async () => {
    const log = join(dir, "clients.log");
    writeFileSync(log, "");
    const c = clock();
    const w = new DenialWatch([log], { now: c.now });
    await w.tick();
    appendFileSync(log, access("10.9.0.1", "POST", "/x", 429) + access("10.9.0.2", "POST", "/y", 429));
    await settle(w, c);
    expect(metricSum(w.metrics.render(), "why403_distinct_clients", { cause: "rate-limit" })).toBe(2);
    c.advance(6 * 60_000);
    expect(metricSum(w.metrics.render(), "why403_distinct_clients", { cause: "rate-limit" })).toBe(0);
    await w.stop();
  });
});

describe("why403 watch: bad input", () => {
  it("a directory is a one-line error (exit 2); so are a bad --listen and no files", () => {
    const sub = join(dir, "adir");
    mkdirSync(sub);
    for (const args of [[sub], [join(dir, "x.log"), "--listen", "nonsense:port"], []]) {
      const r = runCli(["watch", ...args]);
      expect(r.code).toBe(2);
      expect(isOneLineError(r)).toBe(true);
    }
  });
  it("parses --listen forms", () => {
    expect(parseListen("127.0.0.1:9403")).toEqual({ host: "127.0.0.1", port: 9403 });
    expect(parseListen("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(parseListen(":9403")).toEqual({ host: "127.0.0.1", port: 9403 });
    expect(parseListen("host:99999")).toBeNull();
  });
});

describe("live view", () => {
  it("shows denials/s by cause over 10 s and the top rules and paths of the last minute", () => {
    let t = 100_000;
    const recent = new RecentDenials(() => t);
    const labels = (cause: string, rule: string | null) => ({
      cause,
      layer: "waf",
      product: "",
      status: "403",
      method: "POST",
      rule,
    });
    for (let i = 0; i < 20; i++) recent.add("/api/items?token=abc", labels("waf", "942100"));
    for (let i = 0; i < 5; i++) recent.add("/login", labels("csrf", null));
    t += 30_000;
    recent.add("/api/items", labels("waf", "941100"));
    const view = recent.view();
    // The first 25 are older than 10 s: only the last one counts in the rate.
    expect(view.ratesByCause).toEqual([["waf", 0.1]]);
    expect(view.topRules).toEqual([
      ["942100", 20],
      ["941100", 1],
    ]);
    expect(view.topPaths).toEqual([
      ["/api/items", 21],
      ["/login", 5],
    ]);
    const plain = { bold: (s: string) => s, dim: (s: string) => s, yellow: (s: string) => s };
    const screen = renderLiveView(
      { recent: view, total: 26, lines: 40, files: 2, listen: "127.0.0.1:9403" },
      plain,
    ).join("\n");
    expect(screen).toContain("26 denials");
    expect(screen).toMatch(/waf\s+0\.1/);
    expect(screen).not.toContain("token=abc");
    t += 61_000;
    expect(recent.view().lastMinute).toBe(0);
  });
});
