// why403 har <file> and why403 response <file>: diagnose a recorded refusal.

import { diagnoseRecording, exitCodeFor } from "../diagnose/recording.js";
import { InputError, NotRefusedError, UsageError } from "../errors.js";
import type { Exchange, RequestModel } from "../model.js";
import { parseArgs } from "./args.js";
import { redactedCurl } from "./cmd-curl.js";
import {
  COMMON_FLAGS,
  configEvidence,
  dropAnsweredSteps,
  emitReport,
  reconcileWithConfig,
  refineWithServerEvidence,
  requireOne,
  SERVER_EVIDENCE_FLAGS,
  serverLogPaths,
  splitAccessRuleReadings,
} from "./common.js";
import { runLive } from "./live.js";

async function offline(exchange: Exchange, flags: Record<string, unknown>): Promise<number> {
  // Browsers record a request that got no answer (CORS block, abort, network error) as status 0 or -1.
  if (exchange.response.status <= 0) {
    throw new InputError(
      `the recorded request got no response (status ${exchange.response.status}): the browser blocked, aborted or could not send it; a CORS failure shows this way, so diagnose its OPTIONS preflight entry (--list), or replay it with --live`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [n, v] of exchange.request.headers) headers[n.toLowerCase()] = v;
  const extra = await configEvidence(flags as never, {
    method: exchange.request.method,
    url: exchange.request.url,
    headers,
  });
  const logs = serverLogPaths(flags as never);
  if (logs.length) {
    const { evidenceFromLogs } = await import("../evidence/logs/index.js");
    const path = safePath(exchange.request.url);
    const { evidence } = await evidenceFromLogs(logs, {
      since: exchange.startedAt,
      paths: path ? [path] : undefined,
    });
    extra.push(...reconcileWithConfig(splitAccessRuleReadings(evidence), extra));
  }
  const { report, refused } = diagnoseRecording(exchange, extra);
  refineWithServerEvidence(report, extra);
  dropAnsweredSteps(report, flags as never);
  const { formatCurl } = await import("../request/curl.js");
  await emitReport(report, flags as never, redactedCurl(exchange.request, formatCurl));
  return exitCodeFor(report, refused);
}

function safePath(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
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
  if (!flags.live) return offline(exchange, flags);
  const { report, refused } = await runLive(exchange.request, flags);
  const { formatCurl } = await import("../request/curl.js");
  await emitReport(report, flags, redactedCurl(exchange.request, formatCurl));
  return exitCodeFor(report, refused);
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
  return offline(exchange, flags);
}

export { NotRefusedError, UsageError };
