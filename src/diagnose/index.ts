// The whole pipeline as one call: read the input, gather offline evidence, run
// the live investigation when asked, add server-side evidence (logs, configs,
// the file system), decide, and return the why403.report/v1 object the CLI
// prints with --json.
import { InputError } from "../errors.js";
import type { Exchange, Report, RequestModel } from "../model.js";
import { diagnoseLive } from "./live.js";
import type { DiagnoseInput, DiagnoseOptions } from "./options.js";
import { diagnoseRecorded } from "./recording.js";

export type { DiagnoseInput, DiagnoseOptions } from "./options.js";
export { diagnoseRecording, exitCodeFor } from "./recording.js";

/** A curl command line names its program, or is PowerShell (which gets a pointer to cURL). */
const NAMES_ITS_PROGRAM = /^\s*(curl(\.exe)?|invoke-webrequest|invoke-restmethod|iwr|irm|\$session)\s/i;

/** The curl line as the parser wants it: with its `curl` (added when pasted without). */
function asCurlLine(line: string): string {
  return NAMES_ITS_PROGRAM.test(line) ? line : `curl ${line}`;
}

/** A request given as curl arguments without the program name gets it. */
function withCurl(line: string): string {
  return /^\s*curl(\.exe)?\s/i.test(line) ? line : `curl ${line}`;
}

export async function diagnose(input: DiagnoseInput, options: DiagnoseOptions = {}): Promise<Report> {
  if ("curl" in input) {
    const { parseCurlCommandLine } = await import("../request/curl.js");
    return diagnoseLive(parseCurlCommandLine(asCurlLine(input.curl)), options);
  }
  if ("request" in input) return diagnoseLive(input.request, options);
  const exchange = "exchange" in input ? input.exchange : await readRecording(input);
  return options.live ? diagnoseLive(exchange.request, options) : diagnoseRecorded(exchange, options);
}

/** A HAR entry or a saved response, as an exchange. */
async function readRecording(
  input: Exclude<DiagnoseInput, { curl: string } | { request: RequestModel } | { exchange: Exchange }>,
): Promise<Exchange> {
  if ("har" in input) {
    const { readHarText } = await import("../request/har-read.js");
    const { parseHar, selectHarEntry } = await import("../request/har.js");
    // Streamed with long strings cut: a HAR of hundreds of MB stays in bounded memory.
    return selectHarEntry(parseHar(readHarText(input.har)), { entry: input.entry, match: input.match })
      .exchange;
  }
  if ("response" in input) {
    const { readInputFile } = await import("../request/read-input.js");
    const { exchangeFromRawResponse } = await import("../request/raw-response.js");
    let request: RequestModel | undefined;
    if (input.requestCurl !== undefined) {
      const { parseCurlCommandLine } = await import("../request/curl.js");
      request = parseCurlCommandLine(withCurl(input.requestCurl));
    }
    return exchangeFromRawResponse(readInputFile(input.response, "response file"), request);
  }
  throw new InputError(
    "diagnose needs one input: { curl }, { har }, { response }, { request } or { exchange }",
  );
}
