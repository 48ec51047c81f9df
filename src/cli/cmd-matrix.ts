// why403 matrix <file.yaml|json>: identities × checks against a live service,
// each refusal diagnosed from the answer alone; text, --json, --junit FILE.
import { UsageError } from "../errors.js";
import type { Evidence } from "../model.js";
import { parseArgs } from "./args.js";
import { noColor, requireOne, serverLogPaths } from "./common.js";
import { LOG_WAIT_MS } from "./live.js";
import { checkWritable, writeOutputFile } from "./output-file.js";
import { colourWanted, makeStyle, ProgressLine } from "./terminal.js";

export async function cmdMatrix(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, {
    json: { kind: "boolean" },
    junit: { kind: "string" },
    "allow-side-effects": { kind: "boolean" },
    rate: { kind: "number" },
    concurrency: { kind: "number" },
    timeout: { kind: "number" },
    "request-id": { kind: "boolean" },
    "server-logs": { kind: "list", greedy: true },
    "no-color": { kind: "boolean" },
    color: { kind: "boolean" },
    debug: { kind: "boolean" },
  });
  const file = requireOne(rest, "matrix file: why403 matrix authz.yaml");
  if (typeof flags.junit === "string") checkWritable(flags.junit, "--junit");
  if (flags.concurrency === 0) throw new UsageError("--concurrency needs at least 1");
  if (flags.rate === 0) throw new UsageError("--rate needs a positive number of requests per second");
  const logs = serverLogPaths(flags);
  if (logs.length && flags["request-id"] === false)
    throw new UsageError("--server-logs finds each cell by its X-Request-Id: drop --no-request-id");
  const { readInputFile } = await import("../request/read-input.js");
  const { parseMatrix } = await import("../matrix/spec.js");
  const { MAX_MATRIX_FILE_BYTES } = await import("../limits.js");
  const text = readInputFile(file, "matrix file", MAX_MATRIX_FILE_BYTES).toString("utf8");
  const spec = parseMatrix(text, file, process.env);
  const { runMatrix, matrixExitCode } = await import("../matrix/run.js");
  const { createHttpTransport } = await import("../http/client.js");
  const transport = createHttpTransport();
  const progress = new ProgressLine();
  const since = new Date();
  try {
    const result = await runMatrix(spec, {
      transport,
      allowSideEffects: flags["allow-side-effects"] === true,
      ratePerSecond: typeof flags.rate === "number" ? flags.rate : undefined,
      concurrency: typeof flags.concurrency === "number" ? Math.floor(flags.concurrency) : undefined,
      timeoutMs: typeof flags.timeout === "number" ? flags.timeout : undefined,
      requestIds: flags["request-id"] !== false,
      serverEvidence: logs.length ? (cells) => logEvidenceByRequestId(logs, cells, since) : undefined,
      onCell: (done, total) => progress.update(`why403: matrix · ${done}/${total} cells`),
    });
    progress.clear();
    if (typeof flags.junit === "string") {
      const { renderJunit } = await import("../report/junit.js");
      writeOutputFile(flags.junit, renderJunit(result), "--junit");
      if (!flags.json) process.stderr.write(`why403: JUnit report written to ${flags.junit}\n`);
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const { renderMatrixText } = await import("../report/matrix-text.js");
      process.stdout.write(renderMatrixText(result, makeStyle(colourWanted(process.stdout, noColor(flags)))));
    }
    return matrixExitCode(result);
  } finally {
    progress.clear();
    await transport.close?.();
  }
}

/**
 * The server's records of the refused cells, found by the X-Request-Id each
 * cell sent (ModSecurity's audit log and access logs that log the header carry
 * it; error-log lines join them by the server's own unique id).
 */
async function logEvidenceByRequestId(
  paths: string[],
  cells: Array<{ requestId: string; path: string }>,
  since: Date,
): Promise<Map<string, Evidence[]>> {
  const { evidenceFromLogs, waitForLogMarker } = await import("../evidence/logs/index.js");
  const last = cells[cells.length - 1]!.requestId;
  // Servers may write a line after answering: wait (bounded) for the last refused cell's id.
  await Promise.all(
    paths.filter((p) => p !== "-" && !p.endsWith(".gz")).map((p) => waitForLogMarker(p, last, LOG_WAIT_MS)),
  );
  const { evidence } = await evidenceFromLogs(paths, {
    requestIds: cells.map((c) => c.requestId),
    since,
    until: new Date(),
    paths: [...new Set(cells.map((c) => c.path))],
  });
  const byId = new Map<string, Evidence[]>();
  for (const e of evidence) {
    const id = e.data?.requestId;
    if (typeof id !== "string") continue;
    byId.set(id, [...(byId.get(id) ?? []), e]);
  }
  return byId;
}
