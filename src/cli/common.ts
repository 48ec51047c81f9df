// What every diagnosing command shares: the common flags, server-side evidence
// options, and printing a report in the format asked for.
import { writeFileSync } from "node:fs";
import type { Evidence, Report } from "../model.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderText } from "../report/text.js";
import type { FlagSpecs, FlagValues } from "./args.js";
import { colourWanted, makeStyle } from "./terminal.js";
import { UsageError } from "../errors.js";

export const COMMON_FLAGS: FlagSpecs = {
  json: { kind: "boolean" },
  markdown: { kind: "boolean" },
  html: { kind: "string" },
  "max-probes": { kind: "number" },
  "allow-side-effects": { kind: "boolean" },
  timeout: { kind: "number" },
  "no-color": { kind: "boolean" },
  color: { kind: "boolean" },
  debug: { kind: "boolean" },
  "request-id": { kind: "boolean" },
  rate: { kind: "number" },
};

export const SERVER_EVIDENCE_FLAGS: FlagSpecs = {
  "server-logs": { kind: "list" },
  "nginx-conf": { kind: "string" },
  "apache-conf": { kind: "string" },
  client: { kind: "string" },
  "fs-user": { kind: "string" },
};

export function noColor(flags: FlagValues): boolean {
  return flags["no-color"] === true || flags.color === false;
}

/** Prints the report on stdout in the chosen format; --html also writes a file. */
export async function emitReport(report: Report, flags: FlagValues, curlLine?: string): Promise<void> {
  if (typeof flags.html === "string") {
    const { renderHtml } = await import("../report/html.js");
    writeFileSync(flags.html, renderHtml(report, curlLine));
    if (!flags.json) process.stderr.write(`why403: HTML report written to ${flags.html}\n`);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else if (flags.markdown) {
    process.stdout.write(renderMarkdown(report, curlLine));
  } else {
    process.stdout.write(renderText(report, makeStyle(colourWanted(process.stdout, noColor(flags)))));
  }
}

/** Server-side evidence for a request: config evaluation (nginx/Apache) and the file-system walk. */
export async function configEvidence(
  flags: FlagValues,
  request: { method: string; url: string; headers?: Record<string, string> },
): Promise<Evidence[]> {
  const evidence: Evidence[] = [];
  const client = typeof flags.client === "string" ? flags.client : null;
  if (typeof flags["nginx-conf"] === "string") {
    const { parseNginxConfig, evaluateNginx, nginxEvidence } = await import("../evidence/nginx/index.js");
    const decision = evaluateNginx(parseNginxConfig(flags["nginx-conf"]), { ...request, client });
    evidence.push(...nginxEvidence(decision));
  }
  if (typeof flags["apache-conf"] === "string") {
    const { parseApacheConfig, evaluateApache, apacheEvidence } = await import("../evidence/apache/index.js");
    const decision = evaluateApache(parseApacheConfig(flags["apache-conf"]), { ...request, client });
    evidence.push(...apacheEvidence(decision));
  }
  return evidence;
}

export function serverLogPaths(flags: FlagValues): string[] {
  const v = flags["server-logs"];
  return Array.isArray(v) ? v.flatMap((x) => x.split(",")).filter(Boolean) : [];
}

export function requireOne(rest: string[], what: string): string {
  if (rest.length === 0) throw new UsageError(`missing ${what}`);
  if (rest.length > 1) throw new UsageError(`expected one ${what}, got ${rest.length}: ${rest.join(" ")}`);
  return rest[0]!;
}
