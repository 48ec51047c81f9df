// Makes docs/report.png: a live diagnosis of the lab's ModSecurity + CRS scenario,
// rendered by `--html` and photographed in Debian's chromium. Run with the lab up
// (node lab/start.mjs) and after npm run build.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const lab = JSON.parse(readFileSync(".run/lab.json", "utf8"));
const body = {
  product: 1182,
  rating: 4,
  title: "Great",
  comment: "Works well, but the manual says 1' OR '1'='1' -- somewhere",
};
try {
  execFileSync(
    process.execPath,
    [
      "dist/why403.js",
      "curl",
      `${lab.apache.url}/api/reviews`,
      "-H",
      "Host: lab.test",
      "-H",
      "content-type: application/json",
      "-H",
      "authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTE3In0.c2lnbmF0dXJl",
      "--data-raw",
      JSON.stringify(body),
      "--html",
      ".run/report.html",
      "--rate",
      "50",
    ],
    { stdio: "ignore" },
  );
} catch {
  // exit status 1 or 3 still writes the report
}
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
await page.goto(`file://${process.cwd()}/.run/report.html`);
await page.screenshot({ path: "docs/report.png", fullPage: true });
await browser.close();
