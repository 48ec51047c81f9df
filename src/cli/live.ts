// The live run shared by `curl` and `har --live`: progress on stderr, server-side
// evidence from logs and configs, and the investigation itself.
import type { Transport } from "../http/types.js";
import { DEFAULT_MAX_PROBES, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT_MS } from "../limits.js";
import { type CauseId, type Evidence, REFUSAL_STATUSES, type Report, type RequestModel } from "../model.js";
import type { FlagValues } from "./args.js";
import {
  clientFlag,
  configEvidence,
  dropAnsweredSteps,
  reconcileWithConfig,
  refineWithServerEvidence,
  serverLogEvidence,
  serverLogPaths,
} from "./common.js";
import { ProgressLine } from "./terminal.js";

/** Longest wait for late log lines after probing (servers may write access logs after the response). */
export const LOG_WAIT_MS = 3000;
/** How long a log without request ids must stay unchanged to count as written. */
const QUIET_MS = 150;

interface SentProbe {
  at: number;
  method: string;
  url: string;
  status: number | null;
}

/** Notes every request the investigation sends: the log matching needs the paths, methods and times. */
function recordingTransport(inner: Transport, sent: SentProbe[]): Transport {
  return {
    async send(req, opts) {
      const at = Date.now();
      const result = await inner.send(req, opts);
      sent.push({
        at,
        method: req.method.toUpperCase(),
        url: req.url,
        status: result.ok ? result.response.status : null,
      });
      return result;
    },
    close: () => inner.close?.() ?? Promise.resolve(),
  };
}

/**
 * The address the server sees a live run as: --client when given, the
 * loopback address itself for a server on this machine, otherwise unknown.
 */
export function liveClient(flags: FlagValues, url: string): string | null {
  const given = clientFlag(flags);
  if (given) return given;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return null;
  }
  if (host === "::1") return "::1";
  if (host === "localhost" || /^127\./.test(host)) return "127.0.0.1";
  return null;
}

export async function runLive(
  request: RequestModel,
  flags: FlagValues,
): Promise<{ report: Report; refused: boolean }> {
  const { investigate } = await import("../investigate/index.js");
  const { createHttpTransport } = await import("../http/client.js");
  const headers: Record<string, string> = {};
  for (const [n, v] of request.headers) headers[n.toLowerCase()] = v;
  const client = liveClient(flags, request.url);
  const extraEvidence = await configEvidence(flags, {
    method: request.method,
    url: request.url,
    headers,
    client,
  });
  const logs = serverLogPaths(flags);
  const sent: SentProbe[] = [];
  const transport = recordingTransport(createHttpTransport(), sent);
  let fromLogs: Evidence[] = [];
  const serverEvidence = logs.length
    ? async (requestIds: string[]) => {
        const last = requestIds[requestIds.length - 1];
        if (last) await waitForLogs(logs, last, LOG_WAIT_MS);
        const replay = sent[0];
        // The replay may have followed redirects: the refusal is its first refused answer.
        const refused = sent.find((p) => p.status !== null && REFUSAL_STATUSES.has(p.status)) ?? replay;
        const read = await serverLogEvidence(logs, {
          requestIds,
          since: new Date(replay?.at ?? Date.now()),
          until: new Date(),
          client,
          probes: sent,
          target: {
            method: refused?.method ?? request.method.toUpperCase(),
            url: refused?.url ?? request.url,
            status: refused?.status ?? 0,
          },
        });
        fromLogs = reconcileWithConfig(read, extraEvidence);
        return fromLogs;
      }
    : undefined;
  const progress = new ProgressLine();
  try {
    const report = await investigate(request, {
      maxProbes: typeof flags["max-probes"] === "number" ? flags["max-probes"] : DEFAULT_MAX_PROBES,
      allowSideEffects: flags["allow-side-effects"] === true,
      ...(typeof flags["max-unsafe"] === "number" ? { maxUnsafe: flags["max-unsafe"] } : {}),
      timeoutMs:
        typeof flags.timeout === "number" ? flags.timeout : (request.options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      ratePerSecond: typeof flags.rate === "number" ? flags.rate : DEFAULT_RATE_PER_SECOND,
      requestIds: flags["request-id"] !== false,
      client,
      transport,
      extraEvidence,
      serverEvidence,
      onProgress: (p: { experiment: string; probesSent: number; leading: CauseId | null }) =>
        progress.update(`why403: ${p.experiment} · ${p.probesSent} probes · leading: ${p.leading ?? "—"}`),
    });
    const refused = !(report as Report & { notRefused?: boolean }).notRefused;
    if (refused) refineWithServerEvidence(report, [...extraEvidence, ...fromLogs]);
    dropAnsweredSteps(report, flags);
    return { report, refused };
  } finally {
    progress.clear();
    await transport.close?.();
  }
}

/**
 * Waits, within one shared deadline, until each log has caught up with the
 * run: a log that carries this run's request ids until the last id shows; one
 * without ids (nginx/Apache error logs, written before the response) until it
 * stops growing.
 */
async function waitForLogs(paths: string[], lastId: string, budgetMs: number): Promise<void> {
  const { waitForLogMarker } = await import("../evidence/logs/index.js");
  const deadline = Date.now() + budgetMs;
  const runPrefix = lastId.replace(/\d+$/, "");
  await Promise.all(
    paths
      .filter((p) => p !== "-" && !p.endsWith(".gz"))
      .map(async (path) => {
        if ((await waitForLogMarker(path, runPrefix, 0)) !== null) {
          await waitForLogMarker(path, lastId, Math.max(0, deadline - Date.now()));
        } else {
          await untilQuiet(path, Math.min(deadline, Date.now() + 4 * QUIET_MS));
        }
      }),
  );
}

async function untilQuiet(path: string, deadline: number): Promise<void> {
  const { stat } = await import("node:fs/promises");
  const size = () =>
    stat(path).then(
      (s) => s.size,
      () => -1,
    );
  let before = await size();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, QUIET_MS));
    const now = await size();
    if (now === before) return;
    before = now;
  }
}
