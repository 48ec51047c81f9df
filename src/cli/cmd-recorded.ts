// why403 har <file> and why403 response <file>: diagnose a recorded refusal.

import { diagnose, exitCodeFor } from "../diagnose/index.js";
import { NotRefusedError, UsageError } from "../errors.js";
import type { Exchange, RequestModel } from "../model.js";
import { type FlagValues, parseArgs } from "./args.js";
import { redactedCurl } from "./cmd-curl.js";
import {
  COMMON_FLAGS,
  diagnoseOptions,
  emitReport,
  requireOne,
  SERVER_EVIDENCE_FLAGS,
  withProgress,
} from "./common.js";

/** Diagnoses the exchange (offline, or replayed with --live) and prints the report. */
async function diagnoseAndEmit(exchange: Exchange, flags: FlagValues): Promise<number> {
  const report = await withProgress((onProgress) =>
    diagnose({ exchange }, { ...diagnoseOptions(flags), onProgress }),
  );
  const { formatCurl } = await import("../request/curl.js");
  await emitReport(report, flags, redactedCurl(exchange.request, formatCurl));
  return exitCodeFor(report, !report.notRefused);
}

export async function cmdHar(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    ...COMMON_FLAGS,
    ...SERVER_EVIDENCE_FLAGS,
    "server-logs": { kind: "list", greedy: true },
    entry: { kind: "number" },
    match: { kind: "string" },
    live: { kind: "boolean" },
    list: { kind: "boolean" },
  });
  const file = requireOne(rest, "HAR file: why403 har capture.har");
  const { readHarText } = await import("../request/har-read.js");
  const { parseHar, selectHarEntry, listHarEntries } = await import("../request/har.js");
  // Streamed with long strings cut: a HAR of hundreds of MB stays in bounded memory.
  const har = parseHar(readHarText(file));
  if (flags.list) {
    for (const e of listHarEntries(har))
      process.stdout.write(`${e.index}\t${e.status}\t${e.method}\t${e.url}\n`);
    return 0;
  }
  const { index, exchange } = selectHarEntry(har, {
    entry: typeof flags.entry === "number" ? flags.entry : undefined,
    match: typeof flags.match === "string" ? flags.match : undefined,
  });
  if (!flags.json) {
    const { redactUrl } = await import("../redact.js");
    process.stderr.write(
      `why403: entry ${index}: ${exchange.request.method} ${redactUrl(exchange.request.url)} → ${exchange.response.status}\n`,
    );
  }
  return diagnoseAndEmit(exchange, flags);
}

export async function cmdResponse(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    ...COMMON_FLAGS,
    ...SERVER_EVIDENCE_FLAGS,
    "server-logs": { kind: "list", greedy: true },
    "request-curl": { kind: "string" },
  });
  const file = requireOne(rest, "response file: why403 response saved.http");
  const { readInputFile } = await import("../request/read-input.js");
  const { exchangeFromRawResponse } = await import("../request/raw-response.js");
  let request: RequestModel | undefined;
  if (typeof flags["request-curl"] === "string") {
    const { parseCurlCommandLine } = await import("../request/curl.js");
    const line = flags["request-curl"];
    request = parseCurlCommandLine(/^\s*curl(\.exe)?\s/i.test(line) ? line : `curl ${line}`);
  }
  const exchange = exchangeFromRawResponse(readInputFile(file, "response file"), request);
  return diagnoseAndEmit(exchange, flags);
}

export { NotRefusedError, UsageError };
