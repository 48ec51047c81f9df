// What every diagnosing command shares: the common flags, turning them into
// `diagnose()` options, and printing a report in the format asked for.
import type { DiagnoseOptions } from "../diagnose/index.js";
import { clientAddress } from "../diagnose/server-evidence.js";
import { UsageError } from "../errors.js";
import type { Report } from "../model.js";
import { renderMarkdown } from "../report/markdown.js";
import { renderText } from "../report/text.js";
import type { FlagSpecs, FlagValues } from "./args.js";
import { writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle, ProgressLine } from "./terminal.js";

export const COMMON_FLAGS: FlagSpecs = {
  json: { kind: "boolean" },
  markdown: { kind: "boolean" },
  html: { kind: "string" },
  "max-probes": { kind: "number" },
  "allow-side-effects": { kind: "boolean" },
  "max-unsafe": { kind: "number" },
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
    writeOutputFile(flags.html, renderHtml(report, curlLine), "--html");
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

/** The --client address, checked (bad input otherwise); null when not given. */
export function clientFlag(flags: FlagValues): string | null {
  return clientAddress(typeof flags.client === "string" ? flags.client : undefined);
}

/** The diagnosing flags as `diagnose()` options (contract: the flags in camelCase). */
export function diagnoseOptions(flags: FlagValues): DiagnoseOptions {
  const text = (name: string) => (typeof flags[name] === "string" ? (flags[name] as string) : undefined);
  const number = (name: string) => (typeof flags[name] === "number" ? (flags[name] as number) : undefined);
  return {
    live: flags.live === true,
    serverLogs: serverLogPaths(flags),
    nginxConf: text("nginx-conf"),
    apacheConf: text("apache-conf"),
    client: text("client"),
    fsUser: text("fs-user"),
    allowSideEffects: flags["allow-side-effects"] === true,
    maxProbes: number("max-probes"),
    maxUnsafe: number("max-unsafe"),
    timeoutMs: number("timeout"),
    rate: number("rate"),
    requestId: flags["request-id"] !== false,
  };
}

/** Runs a diagnosis with its progress drawn on stderr, cleared when it ends. */
export async function withProgress<T>(
  run: (onProgress: NonNullable<DiagnoseOptions["onProgress"]>) => Promise<T>,
): Promise<T> {
  const progress = new ProgressLine();
  try {
    return await run((p) =>
      progress.update(`why403: ${p.experiment} · ${p.probesSent} probes · leading: ${p.leading ?? "—"}`),
    );
  } finally {
    progress.clear();
  }
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
