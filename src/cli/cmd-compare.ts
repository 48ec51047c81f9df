// why403 compare <curl arguments…> --with <base URL> [--with …]: the same request
// diagnosed in several environments, side by side.
import type { Environment } from "../compare/environments.js";
import type { EnvironmentRun } from "../compare/result.js";
import { isInputError, UsageError } from "../errors.js";
import type { Report, RequestModel } from "../model.js";
import { redactUrl } from "../redact.js";
import { parseArgs } from "./args.js";
import { noColor } from "./common.js";
import { runLive } from "./live.js";
import { writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle } from "./terminal.js";

const COMPARE_FLAGS = {
  with: { kind: "list" as const },
  "carry-credentials": { kind: "boolean" as const },
  json: { kind: "boolean" as const },
  html: { kind: "string" as const },
  "max-probes": { kind: "number" as const },
  "allow-side-effects": { kind: "boolean" as const },
  timeout: { kind: "number" as const },
  rate: { kind: "number" as const },
  "request-id": { kind: "boolean" as const },
  "no-color": { kind: "boolean" as const },
  color: { kind: "boolean" as const },
  debug: { kind: "boolean" as const },
};

export async function cmdCompare(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, COMPARE_FLAGS, true);
  const bases = Array.isArray(flags.with) ? flags.with : [];
  if (rest.length === 0)
    throw new UsageError(
      "missing the curl command: why403 compare 'https://prod.example/api/orders' -d … --with https://staging.example",
    );
  if (bases.length === 0) throw new UsageError("compare needs at least one --with <base URL>");
  const request = await requestFromCurl(rest);
  const { environmentsFor } = await import("../compare/environments.js");
  const envs = environmentsFor(request, bases, flags["carry-credentials"] === true);
  const { environmentResult, compareResult, compareExitCode } = await import("../compare/result.js");
  const reports: Array<Report | null> = [];
  const rows = [];
  for (const [i, env] of envs.entries()) {
    process.stderr.write(`why403: environment ${i + 1}/${envs.length}: ${env.base}\n`);
    const run = await runEnvironment(env, flags);
    reports.push("report" in run ? run.report : null);
    rows.push(environmentResult(env, run));
  }
  const path = new URL(redactUrl(request.url));
  const result = compareResult({ method: request.method, path: `${path.pathname}${path.search}` }, rows);
  if (typeof flags.html === "string") {
    const { renderCompareHtml } = await import("../report/compare-html.js");
    writeOutputFile(flags.html, renderCompareHtml(result, reports), "--html");
    if (!flags.json) process.stderr.write(`why403: HTML comparison written to ${flags.html}\n`);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const { renderCompareText } = await import("../report/compare-text.js");
    process.stdout.write(renderCompareText(result, makeStyle(colourWanted(process.stdout, noColor(flags)))));
  }
  return compareExitCode(result);
}

/** The curl line as `why403 curl` takes it: arguments, one pasted command, or `-` for stdin. */
async function requestFromCurl(rest: string[]): Promise<RequestModel> {
  const { parseCurlArgs, parseCurlCommandLine } = await import("../request/curl.js");
  if (rest.length === 1 && rest[0] === "-") {
    const { readInputFile } = await import("../request/read-input.js");
    return parseCurlCommandLine(readInputFile("-", "curl command").toString("utf8"));
  }
  if (rest.length === 1 && /^\s*curl(\.exe)?\s/i.test(rest[0]!)) return parseCurlCommandLine(rest[0]!);
  return parseCurlArgs(rest[0] === "curl" ? rest.slice(1) : rest);
}

/**
 * One environment's diagnosis with the same engine and safety rules as
 * `why403 curl`. A server that gives no usable answer is that environment's
 * outcome, not the end of the comparison.
 */
async function runEnvironment(env: Environment, flags: Record<string, unknown>): Promise<EnvironmentRun> {
  try {
    return await runLive(env.request, flags as never);
  } catch (error) {
    if (!isInputError(error)) throw error;
    return { failure: { kind: "no-answer", message: error.message } };
  }
}
