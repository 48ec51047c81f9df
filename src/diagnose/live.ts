// A live diagnosis: the replay and the investigation, with server-side
// evidence from configs before probing and from the server's logs after, and
// the report refined with what the server itself recorded.
import { ALL_EXPERIMENTS } from "../experiments/index.js";
import { createHttpTransport } from "../http/client.js";
import type { Transport } from "../http/types.js";
import { investigateWithFacts } from "../investigate/index.js";
import { DEFAULT_MAX_PROBES, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT_MS } from "../limits.js";
import { type Evidence, REFUSAL_STATUSES, type Report, type RequestModel } from "../model.js";
import type { DiagnoseOptions } from "./options.js";
import { dropAnsweredSteps, givenInputs, refineWithServerEvidence } from "./refine.js";
import { clientAddress, configEvidence, reconcileWithConfig, serverLogEvidence } from "./server-evidence.js";

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
 * The address the server sees a live run as: the `client` option when given,
 * the loopback address itself for a server on this machine, otherwise unknown.
 */
function liveClient(clientOption: string | undefined, url: string): string | null {
  const given = clientAddress(clientOption);
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

export async function diagnoseLive(request: RequestModel, options: DiagnoseOptions): Promise<Report> {
  const headers: Record<string, string> = {};
  for (const [n, v] of request.headers) headers[n.toLowerCase()] = v;
  const client = liveClient(options.client, request.url);
  const extraEvidence = await configEvidence(options, {
    method: request.method,
    url: request.url,
    headers,
    client,
  });
  const logs = options.serverLogs ?? [];
  const sent: SentProbe[] = [];
  const inner = options.transport ?? createHttpTransport();
  const transport = recordingTransport(inner, sent);
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
  try {
    const { report, facts } = await investigateWithFacts(request, {
      maxProbes: options.maxProbes ?? DEFAULT_MAX_PROBES,
      allowSideEffects: options.allowSideEffects === true,
      ...(options.maxUnsafe !== undefined ? { maxUnsafe: options.maxUnsafe } : {}),
      timeoutMs: options.timeoutMs ?? request.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ratePerSecond: options.rate ?? DEFAULT_RATE_PER_SECOND,
      requestIds: options.requestId !== false,
      client,
      transport,
      extraEvidence,
      serverEvidence,
      onProgress: options.onProgress,
      experiments: ALL_EXPERIMENTS,
    });
    if (!report.notRefused) refineWithServerEvidence(report, [...extraEvidence, ...fromLogs], facts);
    dropAnsweredSteps(report, givenInputs(options));
    return report;
  } finally {
    // A transport the caller gave stays open for the caller.
    if (!options.transport) await inner.close?.();
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
