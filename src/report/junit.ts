// `why403 matrix --junit FILE`: JUnit XML, the format GitHub Actions (via a
// test-report action), GitLab (artifacts:reports:junit) and Jenkins (junit step)
// render. One testsuite per run, one testcase per cell.
import { describeCause } from "../matrix/cause-detail.js";
import type { MatrixCell, MatrixResult } from "../matrix/run.js";
import { failureSentence } from "./matrix-text.js";

function xml(s: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest escaped.
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function testcase(c: MatrixCell): string {
  const head = `    <testcase classname="${xml(c.request)}" name="${xml(`${c.identity} is ${c.expected === "allow" ? "let through" : "refused"}`)}">`;
  if (c.outcome === "skipped")
    return `${head}\n      <skipped message="${xml(c.note ?? "skipped")}"/>\n    </testcase>`;
  if (c.ok) {
    const out = c.outcome === "deny" ? `${c.status} ${describeCause(c.cause, c.causeDetail)}` : `${c.status}`;
    return `${head}\n      <system-out>${xml(out)}</system-out>\n    </testcase>`;
  }
  const tag = c.outcome === "error" ? "error" : "failure";
  const type = c.outcome === "error" ? "error" : `unexpected-${c.outcome}`;
  const detail = [
    `expected: ${c.expected}`,
    `outcome: ${c.outcome}`,
    `status: ${c.status ?? "none"}`,
    c.outcome === "deny" ? `cause: ${describeCause(c.cause, c.causeDetail)}` : null,
    c.responder
      ? `responder: ${c.responder.layer}${c.responder.product ? ` / ${c.responder.product}` : ""}`
      : null,
    c.requestId ? `X-Request-Id: ${c.requestId}` : null,
  ].filter(Boolean);
  return `${head}\n      <${tag} message="${xml(failureSentence(c))}" type="${type}">${xml(detail.join("\n"))}</${tag}>\n    </testcase>`;
}

export function renderJunit(result: MatrixResult): string {
  const errors = result.cells.filter((c) => c.outcome === "error").length;
  const failures = result.failed - errors;
  const counts = `tests="${result.cells.length}" failures="${failures}" errors="${errors}" skipped="${result.skipped}"`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="why403 matrix" ${counts}>`,
    `  <testsuite name="${xml(`why403 matrix ${result.base}`)}" ${counts}>`,
    ...result.cells.map(testcase),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
