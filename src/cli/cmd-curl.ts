// why403 curl <curl arguments…>: replay the request, probe safely, report.

import { exitCodeFor } from "../diagnose/recording.js";
import { UsageError } from "../errors.js";
import type { RequestModel } from "../model.js";
import { parseArgs } from "./args.js";
import { COMMON_FLAGS, emitReport, SERVER_EVIDENCE_FLAGS } from "./common.js";
import { runLive } from "./live.js";

export async function cmdCurl(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { ...COMMON_FLAGS, ...SERVER_EVIDENCE_FLAGS }, true);
  const { parseCurlArgs, parseCurlCommandLine, formatCurl } = await import("../request/curl.js");
  let request: RequestModel;
  if (rest.length === 0)
    throw new UsageError("missing the curl command: why403 curl 'https://host/path' -X POST -d …");
  if (rest.length === 1 && rest[0] === "-") {
    const { readInputFile } = await import("../request/read-input.js");
    request = parseCurlCommandLine(readInputFile("-", "curl command").toString("utf8"));
  } else if (
    rest.length === 1 &&
    /^\s*(curl(\.exe)?|invoke-webrequest|invoke-restmethod|iwr|irm|\$session)\s/i.test(rest[0]!)
  ) {
    // A whole command pasted as one argument (curl, or PowerShell, which gets a pointer to cURL).
    request = parseCurlCommandLine(rest[0]!);
  } else {
    request = parseCurlArgs(rest[0] === "curl" ? rest.slice(1) : rest);
  }
  const { report, refused } = await runLive(request, flags);
  await emitReport(report, flags, redactedCurl(request, formatCurl));
  return exitCodeFor(report, refused);
}

export function redactedCurl(
  request: RequestModel,
  formatCurl: (r: RequestModel) => string,
): string | undefined {
  return formatCurlRedacted(request, formatCurl);
}

import { redactBody, redactHeaderValue, redactUrl } from "../redact.js";

function formatCurlRedacted(request: RequestModel, formatCurl: (r: RequestModel) => string): string {
  const ct = request.headers.find(([n]) => n.toLowerCase() === "content-type")?.[1] ?? "";
  const body = request.body ? Buffer.from(redactBody(request.body.toString("utf8"), ct)) : null;
  return formatCurl({
    ...request,
    url: redactUrl(request.url),
    headers: request.headers.map(([n, v]) => [n, redactHeaderValue(n, v)]),
    body,
  });
}
