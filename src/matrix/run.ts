// Runs an authorization matrix: one request per identity × check, no probes.
// Each answer is classified allow / deny / error, and a refusal is diagnosed
// from the answer alone (the same offline engine as `why403 response`).
import { diagnoseRecording } from "../diagnose/recording.js";
import { Pacer, retryAfterMs } from "../http/pacer.js";
import { newRunId, requestIdFor, withRequestId } from "../http/request-id.js";
import { isSafeMethod, type Transport } from "../http/types.js";
import { DEFAULT_MATRIX_CONCURRENCY, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT_MS } from "../limits.js";
import type { CauseId, Evidence, Exchange, Header, Layer, RequestModel } from "../model.js";
import { redactUrl } from "../redact.js";
import { causeDetail } from "./cause-detail.js";
import type { MatrixCheck, MatrixIdentity, MatrixSpec } from "./spec.js";

export type CellOutcome = "allow" | "deny" | "error" | "skipped";

export interface MatrixCell {
  /** The check's label, "POST /api/projects". */
  request: string;
  identity: string;
  expected: "allow" | "deny";
  outcome: CellOutcome;
  status: number | null;
  /** True when the outcome is the expected one; null for a skipped cell. */
  ok: boolean | null;
  /** The diagnosed cause of a refusal (from the answer alone), else null. */
  cause: CauseId | null;
  /** Extension: a few words on the cause ("JWT lacks scope orders:write"). */
  causeDetail: string | null;
  /** Extension: who answered a refusal. */
  responder: { layer: Layer; product: string | null } | null;
  /** Extension: why the cell is an error or was skipped. */
  note: string | null;
  /** Extension: the X-Request-Id sent, to find the request in the server's logs. */
  requestId: string | null;
}

export interface MatrixResult {
  schema: "why403.matrix/v1";
  base: string;
  cells: MatrixCell[];
  passed: number;
  failed: number;
  skipped: number;
}

export interface MatrixOptions {
  transport: Transport;
  allowSideEffects?: boolean;
  ratePerSecond?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Send X-Request-Id on each request (default true). */
  requestIds?: boolean;
  /** Server-side evidence for the refused cells, by request id (server logs); optional. */
  serverEvidence?: (cells: Array<{ requestId: string; path: string }>) => Promise<Map<string, Evidence[]>>;
  onCell?: (done: number, total: number) => void;
}

interface Job {
  check: MatrixCheck;
  identity: MatrixIdentity;
  n: number;
}

export async function runMatrix(spec: MatrixSpec, options: MatrixOptions): Promise<MatrixResult> {
  const jobs: Job[] = [];
  for (const check of spec.checks)
    for (const identity of spec.identities) jobs.push({ check, identity, n: jobs.length + 1 });
  const pacer = new Pacer(options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND);
  const runId = newRunId();
  const cells: MatrixCell[] = new Array(jobs.length);
  const exchanges = new Map<number, Exchange>();
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const { cell, exchange } = await runCell(spec.base, job, options, pacer, runId);
      cells[job.n - 1] = cell;
      if (exchange) exchanges.set(job.n, exchange);
      options.onCell?.(++done, jobs.length);
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? DEFAULT_MATRIX_CONCURRENCY, jobs.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (options.serverEvidence) await refineWithServer(cells, exchanges, jobs, options.serverEvidence);
  return summarise(spec.base, cells);
}

function expectedFor(check: MatrixCheck, identity: MatrixIdentity): "allow" | "deny" {
  return check.allow.includes(identity.name) ? "allow" : "deny";
}

export function cellRequest(base: string, check: MatrixCheck, identity: MatrixIdentity): RequestModel {
  const own = new Set(identity.headers.map(([n]) => n.toLowerCase()));
  // The identity's credentials win over a check's header of the same name.
  const headers: Header[] = [
    ...check.headers.filter(([n]) => !own.has(n.toLowerCase())),
    ...identity.headers,
  ];
  if (identity.cookies.length) {
    const jar = identity.cookies.map(([k, v]) => `${k}=${v}`).join("; ");
    const at = headers.findIndex(([n]) => n.toLowerCase() === "cookie");
    if (at === -1) headers.push(["Cookie", jar]);
    else headers[at] = [headers[at]![0], `${headers[at]![1]}; ${jar}`];
  }
  const url = new URL(`${base}${check.path}`);
  for (const [k, v] of identity.query) url.searchParams.append(k, v);
  return {
    method: check.method,
    url: identity.query.length ? url.toString() : `${base}${check.path}`,
    headers,
    body: check.body === null ? null : Buffer.from(check.body, "utf8"),
    options: {},
  };
}

async function runCell(
  base: string,
  job: Job,
  options: MatrixOptions,
  pacer: Pacer,
  runId: string,
): Promise<{ cell: MatrixCell; exchange: Exchange | null }> {
  const { check, identity } = job;
  const cell: MatrixCell = {
    request: check.label,
    identity: identity.name,
    expected: expectedFor(check, identity),
    outcome: "skipped",
    status: null,
    ok: null,
    cause: null,
    causeDetail: null,
    responder: null,
    note: null,
    requestId: null,
  };
  if (!isSafeMethod(check.method) && !options.allowSideEffects) {
    cell.note = `${check.method} may change state: skipped without --allow-side-effects (run it against staging)`;
    return { cell, exchange: null };
  }
  let request = cellRequest(base, check, identity);
  if (options.requestIds !== false) {
    cell.requestId = requestIdFor(runId, job.n);
    request = withRequestId(request, cell.requestId);
  }
  await pacer.wait();
  const startedAt = new Date();
  const sent = await options.transport.send(request, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  if (!sent.ok) {
    cell.outcome = "error";
    cell.ok = false;
    cell.note = sent.failure.message;
    return { cell, exchange: null };
  }
  // A server that asks for a pause gets it before the next cell (within the pacer's longest wait).
  const pause = retryAfterMs(sent.response.headers, Date.now());
  if (pause !== null && (sent.response.status === 429 || sent.response.status === 503)) pacer.deferFor(pause);
  const exchange: Exchange = { request, response: sent.response, redirects: [], startedAt };
  classify(cell, exchange, []);
  return { cell, exchange };
}

/** Sets outcome, status, ok and (for a refusal) the cause, from the answer and any server evidence. */
function classify(cell: MatrixCell, exchange: Exchange, extra: Evidence[]): void {
  const status = exchange.response.status;
  const { report, refused, evidence } = diagnoseRecording(exchange, extra);
  cell.status = status;
  cell.outcome = refused ? "deny" : status >= 200 && status < 400 ? "allow" : "error";
  cell.ok = cell.outcome === cell.expected;
  if (cell.outcome === "error") cell.note = `status ${status} is neither an allow (2xx/3xx) nor a refusal`;
  if (cell.outcome !== "deny") return;
  cell.cause = report.verdict?.cause ?? null;
  cell.causeDetail = causeDetail(report, evidence);
  cell.responder = { layer: report.baseline.responder.layer, product: report.baseline.responder.product };
}

async function refineWithServer(
  cells: MatrixCell[],
  exchanges: Map<number, Exchange>,
  jobs: Job[],
  read: NonNullable<MatrixOptions["serverEvidence"]>,
): Promise<void> {
  const refused = jobs.filter((j) => cells[j.n - 1]!.outcome === "deny" && cells[j.n - 1]!.requestId);
  if (refused.length === 0) return;
  const byId = await read(
    refused.map((j) => ({ requestId: cells[j.n - 1]!.requestId!, path: j.check.path.split("?")[0]! })),
  );
  for (const j of refused) {
    const cell = cells[j.n - 1]!;
    const extra = byId.get(cell.requestId!) ?? [];
    if (extra.length) classify(cell, exchanges.get(j.n)!, extra);
  }
}

function summarise(base: string, cells: MatrixCell[]): MatrixResult {
  return {
    schema: "why403.matrix/v1",
    base: redactUrl(base),
    cells,
    passed: cells.filter((c) => c.ok === true).length,
    failed: cells.filter((c) => c.ok === false).length,
    skipped: cells.filter((c) => c.outcome === "skipped").length,
  };
}

/** Contract exit status: 0 every cell as expected (skipped cells aside), 1 otherwise. */
export function matrixExitCode(result: MatrixResult): 0 | 1 {
  return result.failed === 0 ? 0 : 1;
}
