// Real browser end to end (Debian's chromium driven by playwright-core):
// 1. the HTML report renders without console errors at 1280 and 390 pixels, marks
//    the refusing layer, and its copy button copies;
// 2. Chromium submits a real form that the lab app refuses for CSRF and sends a
//    fetch() JSON POST that Apache + ModSecurity + CRS refuses; the browser records
//    the HAR itself, and `why403 har` diagnoses both from it, offline and --live.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../src/report/schema.js";
import { runCli, runCliAsync } from "./helpers/cli.js";
import { getLab } from "./helpers/lab.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts", "browser");
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run lab/install.sh`);
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

describe("HTML report in a real browser", () => {
  it("renders at 1280 and 390 px without console errors, marks the refusing layer, copies fixes", async () => {
    const html = join(ARTIFACTS, "report.html");
    const r = runCli(["response", "fixtures/responses/django-via-cloudflare.http", "--html", html]);
    expect(r.code, r.stderr).toBe(0);
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      // A file:// page may not read the clipboard back, so the text the page writes is recorded as it is written.
      await page.addInitScript(() => {
        const record = window as unknown as { copiedText?: string };
        Object.defineProperty(navigator, "clipboard", {
          value: {
            writeText: async (text: string) => {
              record.copiedText = text;
            },
          },
        });
      });
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      const failed: string[] = [];
      page.on("requestfailed", (req) => failed.push(req.url()));
      await page.goto(`file://${html}`);
      const refused = page.locator('.hop[data-refused="true"]');
      await expect(refused.count()).resolves.toBe(1);
      expect(await refused.getAttribute("data-layer")).toBe("application");
      expect(await refused.textContent()).toContain("django");
      expect(await page.locator('.hop[data-layer="cdn"]').textContent()).toContain("cloudflare");
      expect(await page.locator("#verdict").getAttribute("data-cause")).toBe("csrf");
      // No horizontal overflow of the page itself on a narrow screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await page.screenshot({ path: join(ARTIFACTS, `report-${width}.png`), fullPage: true });
      // The copy button puts the fix text on the clipboard.
      const button = page.locator("button[data-copy]").first();
      await button.click();
      // The clipboard write is asynchronous: wait for the button to say so.
      await page.waitForFunction(
        () => document.querySelector("button[data-copy]")?.textContent === "Copied",
        null,
        {
          timeout: 5000,
          polling: 20,
        },
      );
      const copied = await page.evaluate(() => (window as unknown as { copiedText?: string }).copiedText);
      const expected = await page.locator("#fix-0").textContent();
      expect(expected).toBeTruthy();
      expect(copied).toBe(expected);
      expect(errors).toEqual([]);
      expect(failed).toEqual([]);
      await context.close();
    }
  });
});

describe("logs HTML report in a real browser", () => {
  it("draws denials over time by cause and the top tables without console errors", async () => {
    const html = join(ARTIFACTS, "logs.html");
    const r = runCli([
      "logs",
      "fixtures/logs/apache/error.log",
      "fixtures/logs/nginx/error.log",
      "fixtures/logs/app/pino.log",
      "--html",
      html,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(`file://${html}`);
    expect(await page.locator("#chart .seg").count()).toBeGreaterThan(0);
    expect(await page.locator("text=Top rules").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "logs-390.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("browser-recorded HAR", () => {
  const harPath = join(ARTIFACTS, "lab.har");

  beforeAll(async () => {
    const lab = getLab();
    const context = await browser.newContext({ recordHar: { path: harPath, content: "embed" } });
    const page = await context.newPage();
    // A real form: load it (session + token), lose the session, submit.
    await page.goto(`${lab.apps.node.url}/form/comment`);
    await context.clearCookies();
    await page.fill("textarea[name=comment], input[name=comment]", "hello from chromium");
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit], input[type=submit]")]);
    // A fetch() JSON POST through Apache + ModSecurity + CRS.
    await page.goto(`${lab.apache.url}/form/comment`);
    const status = await page.evaluate(async () => {
      const body: Record<string, unknown> = { title: "review", rating: 4 };
      for (let i = 0; i < 20; i++) body[`f${i}`] = `v${i}`;
      body.comment = "1' OR '1'='1' --";
      const r = await fetch("/api/items", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return r.status;
    });
    expect(status).toBe(403);
    await context.close(); // writes the HAR
  });

  it("diagnoses the CSRF form refusal from the browser's HAR, offline", () => {
    const r = runCli(["har", harPath, "--match", "/form/comment", "--json"]);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.target.method).toBe("POST");
    expect(report.verdict?.cause).toBe("csrf");
    expect(report.baseline.responder.product).toBe("express");
  });

  it("diagnoses the WAF refusal of the fetch() POST from the browser's HAR, offline", () => {
    const r = runCli(["har", harPath, "--match", "/api/items", "--json"]);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.target.method).toBe("POST");
    expect(report.baseline.status).toBe(403);
    expect(report.verdict?.cause).toBe("waf");
  });

  it("diagnoses both again with --live", async () => {
    for (const [match, cause] of [
      ["/form/comment", "csrf"],
      ["/api/items", "waf"],
    ] as const) {
      const r = await runCliAsync(["har", harPath, "--match", match, "--live", "--json", "--rate", "50"]);
      const report = reportSchema.parse(JSON.parse(r.stdout));
      expect(report.verdict?.cause, `${match}: ${JSON.stringify(report.candidates)}`).toBe(cause);
      expect(report.sideEffects.unsafeProbes).toBe(0);
    }
    expect(readFileSync(harPath, "utf8")).toContain("/api/items");
  });
});
