// The live run shared by `curl` and `har --live`: progress on stderr, server-side
// evidence from logs and configs, and the investigation itself.
import type { CauseId, RequestModel, Report } from "../model.js";
import type { FlagValues } from "./args.js";
import { configEvidence, serverLogPaths } from "./common.js";
import { ProgressLine } from "./terminal.js";
import { DEFAULT_MAX_PROBES, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT_MS } from "../limits.js";

export async function runLive(request: RequestModel, flags: FlagValues): Promise<{ report: Report; refused: boolean }> {
  const { investigate } = await import("../investigate/index.js");
  const headers: Record<string, string> = {};
  for (const [n, v] of request.headers) headers[n.toLowerCase()] = v;
  const extraEvidence = await configEvidence(flags, { method: request.method, url: request.url, headers });
  const logs = serverLogPaths(flags);
  const progress = new ProgressLine();
  const serverEvidence = logs.length
    ? async (requestIds: string[]) => {
        const { evidenceFromLogs } = await import("../evidence/logs/index.js");
        return (await evidenceFromLogs(logs, { requestIds })).evidence;
      }
    : undefined;
  try {
    const report = await investigate(request, {
      maxProbes: typeof flags["max-probes"] === "number" ? flags["max-probes"] : DEFAULT_MAX_PROBES,
      allowSideEffects: flags["allow-side-effects"] === true,
      timeoutMs: typeof flags.timeout === "number" ? flags.timeout : (request.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      ratePerSecond: typeof flags.rate === "number" ? flags.rate : DEFAULT_RATE_PER_SECOND,
      requestIds: flags["request-id"] !== false,
      extraEvidence,
      serverEvidence,
      onProgress: (p: { experiment: string; probesSent: number; leading: CauseId | null }) =>
        progress.update(`why403: ${p.experiment} · ${p.probesSent} probes · leading: ${p.leading ?? "—"}`),
    });
    const refused = !(report as Report & { notRefused?: boolean }).notRefused;
    return { report, refused };
  } finally {
    progress.clear();
  }
}
