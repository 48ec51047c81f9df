import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { diagnose } from "../diagnose/index.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { makeStyle } from "./style.js";
import { renderText } from "./text.js";

const FIXTURE = join(import.meta.dirname, "../../fixtures/responses/cloudflare-1020.http");

describe("a saved response without its request", () => {
  it("is named so by every renderer, never as 'GET unknown:'", async () => {
    const report = await diagnose({ response: FIXTURE });
    expect(report.target.url).toBe("unknown:");
    const html = renderHtml(report);
    expect(html).toContain("<title>why403: saved response (request not recorded)</title>");
    expect(html).toContain("<h1>saved response (request not recorded) → 403</h1>");
    expect(renderMarkdown(report)).toContain("## why403: saved response (request not recorded) → 403");
    expect(renderText(report, makeStyle(false))).toContain(
      "why403 saved response (request not recorded) → 403",
    );
    for (const out of [html, renderMarkdown(report), renderText(report, makeStyle(false))]) {
      expect(out).not.toContain("unknown:");
    }
  });
});
