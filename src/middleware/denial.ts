// Explainable denials, framework-neutral part: the `Denial` error an
// application throws, the RFC 9457 answer it becomes and the one
// `why403.decision/v1` line written per denial. The adapters (express.ts,
// fastify.ts, hono.ts) only read the request's method, path and request id and
// hand the answer to their framework.
//
// Safe by default: the answer carries only what the application wrote (cause,
// reason, detail) and a request id; nothing from the request is echoed, except
// an incoming X-Request-Id made only of [A-Za-z0-9._:-] (so that proxies' and
// why403's own ids join the log lines; anything else gets a fresh id).
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { CAUSE_IDS, type CauseId } from "../model.js";
import { redactText, redactUrl } from "../redact.js";

const PROBLEM_TYPE_PREFIX = "urn:why403:cause:";
const DECISION_SCHEMA = "why403.decision/v1";

export interface DenialInit {
  cause: CauseId;
  /** A short machine-readable reason: 1-80 letters, digits, ".", "_" or "-", e.g. "order-shipped". */
  reason: string;
  /** The application's own sentence for the person refused. */
  detail?: string;
  /** 4xx status of the answer (default 403). */
  status?: number;
  /** Overrides the title derived from the cause. */
  title?: string;
  /** Seconds for a Retry-After header (rate limits). */
  retryAfter?: number;
}

const REASON = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const MAX_DETAIL = 500;

/** A refusal the application decided, with its cause and reason. */
export class Denial extends Error {
  override readonly cause: CauseId;
  readonly reason: string;
  readonly detail: string | null;
  readonly status: number;
  readonly title: string;
  readonly retryAfter: number | null;

  constructor(init: DenialInit) {
    if (!init || !(CAUSE_IDS as readonly string[]).includes(init.cause))
      throw new TypeError(`Denial: cause must be one of ${CAUSE_IDS.join(", ")}`);
    if (typeof init.reason !== "string" || !REASON.test(init.reason))
      throw new TypeError("Denial: reason must be 1-80 letters, digits, '.', '_' or '-'");
    const status = init.status ?? 403;
    if (!Number.isInteger(status) || status < 400 || status > 499)
      throw new TypeError("Denial: status must be a 4xx status");
    if (init.retryAfter !== undefined && !(Number.isInteger(init.retryAfter) && init.retryAfter >= 0))
      throw new TypeError("Denial: retryAfter must be a whole number of seconds");
    const detail = typeof init.detail === "string" ? init.detail.slice(0, MAX_DETAIL) : null;
    super(detail ?? `${init.cause}: ${init.reason}`);
    this.name = "Denial";
    this.cause = init.cause;
    this.reason = init.reason;
    this.detail = detail;
    this.status = status;
    this.title = init.title ?? TITLES[init.cause];
    this.retryAfter = init.retryAfter ?? null;
  }
}

const TITLES: Record<CauseId, string> = {
  "fs-permission": "The server may not read the file",
  "credentials-invalid": "Credentials missing or not valid",
  "insufficient-permission": "Not permitted for this identity",
  "ip-restriction": "Not allowed from this address",
  csrf: "CSRF check failed",
  waf: "Refused by a security rule",
  "rate-limit": "Too many requests",
  "server-config": "Refused by a server rule",
  "app-logic": "Refused by a business rule",
  cors: "Origin not allowed",
  "redirect-method-change": "The request changed on a redirect",
  "bot-protection": "Automated traffic refused",
};

export function isDenial(e: unknown): e is Denial {
  return e instanceof Denial;
}

/** What the adapter knows of the request: only used for the log line and the id. */
export interface RequestFacts {
  method: string;
  /** The request target as the framework has it (a query is dropped before logging). */
  url: string;
  /** The incoming X-Request-Id header, if any. */
  requestIdHeader: string | null | undefined;
}

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFor(header: string | null | undefined): string {
  return typeof header === "string" && INCOMING_ID.test(header) ? header : randomUUID();
}

export interface ProblemAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  cause: CauseId;
  reason: string;
  requestId: string;
}

function problemFor(d: Denial, requestId: string): Problem {
  const p: Problem = {
    type: PROBLEM_TYPE_PREFIX + d.cause,
    title: d.title,
    status: d.status,
    cause: d.cause,
    reason: d.reason,
    requestId,
  };
  if (d.detail !== null) p.detail = d.detail;
  return p;
}

function answerFor(d: Denial, requestId: string): ProblemAnswer {
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "cache-control": "no-store",
    "x-request-id": requestId,
  };
  if (d.retryAfter !== null) headers["retry-after"] = String(d.retryAfter);
  return { status: d.status, headers, body: JSON.stringify(problemFor(d, requestId)) };
}

const METHOD = /^[A-Z][A-Z0-9_-]{0,31}$/;

/** The decision line: the path without its query (queries carry tokens), secrets scrubbed. */
function decisionLine(d: Denial, req: RequestFacts, requestId: string, now = new Date()): string {
  const q = req.url.search(/[?#]/);
  const path = q === -1 ? req.url : req.url.slice(0, q);
  return JSON.stringify({
    schema: DECISION_SCHEMA,
    time: now.toISOString(),
    requestId,
    method: METHOD.test(req.method) ? req.method : "OTHER",
    path: redactUrl(path.slice(0, 2048)),
    status: d.status,
    cause: d.cause,
    reason: d.reason,
    detail: d.detail === null ? null : redactText(d.detail),
  });
}

/** Where decision lines go: a file path (appended), a writable stream, or a function; false for none. */
export type DecisionLogTarget = string | NodeJS.WritableStream | ((line: string) => void) | false;

export interface ExplainOptions {
  /** Decision log (default: none). */
  log?: DecisionLogTarget;
  /** Clock for the log line's time (tests). */
  now?: () => Date;
}

/** Handles one denial: the answer to send, and its log line written. */
export class DenialExplainer {
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(options: ExplainOptions = {}) {
    this.write = logWriter(options.log ?? false);
    this.now = options.now ?? (() => new Date());
  }

  explain(d: Denial, req: RequestFacts): ProblemAnswer {
    const id = requestIdFor(req.requestIdHeader);
    this.write(`${decisionLine(d, req, id, this.now())}\n`);
    return answerFor(d, id);
  }
}

function logWriter(target: DecisionLogTarget): (line: string) => void {
  if (target === false) return () => {};
  if (typeof target === "function") return (line) => target(line.slice(0, -1));
  const stream = typeof target === "string" ? openAppend(target) : target;
  let warned = false;
  // A log that cannot be written must not take the application down: warn once.
  stream.on("error", (e: Error) => {
    if (warned) return;
    warned = true;
    process.emitWarning(`why403: decision log not written: ${e.message}`);
  });
  return (line) => {
    stream.write(line);
  };
}

function openAppend(path: string): NodeJS.WritableStream {
  return createWriteStream(path, { flags: "a" });
}
