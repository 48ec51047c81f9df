// The shared vocabulary of why403: requests, responses, evidence and verdicts.
// Every importer produces these shapes, every experiment and evidence source
// consumes and produces them, and the reports render them. Pure data, no I/O.

export const CAUSE_IDS = [
  "fs-permission",
  "credentials-invalid",
  "insufficient-permission",
  "ip-restriction",
  "csrf",
  "waf",
  "rate-limit",
  "server-config",
  "app-logic",
  "cors",
  "redirect-method-change",
  "bot-protection",
] as const;
export type CauseId = (typeof CAUSE_IDS)[number];

export const LAYERS = ["cdn", "waf", "proxy", "gateway", "web-server", "application", "unknown"] as const;
export type Layer = (typeof LAYERS)[number];

export const TRIGGER_LOCATIONS = ["body", "query", "path", "header", "cookie", "method"] as const;
export type TriggerLocation = (typeof TRIGGER_LOCATIONS)[number];

/** Statuses that count as a refusal (contract: exit 3 otherwise, unless a block page is recognised). */
export const REFUSAL_STATUSES: ReadonlySet<number> = new Set([401, 403, 405, 419, 429, 451]);

/** A header as sent or received: original case kept, order kept, duplicates allowed. */
export type Header = [name: string, value: string];

export interface RequestModel {
  method: string;
  url: string;
  headers: Header[];
  /** Raw body bytes; null when there is none. */
  body: Buffer | null;
  /** Transport options that came with the request (curl flags). */
  options: RequestOptions;
}

export interface RequestOptions {
  /** -k / --insecure */
  insecure?: boolean;
  /** -L / --location */
  followRedirects?: boolean;
  /** -x / --proxy */
  proxy?: string;
  /** --compressed */
  compressed?: boolean;
  /** curl -X given explicitly (keeps the method across 301/302 with -L). */
  explicitMethod?: boolean;
  /** -I / --head */
  headOnly?: boolean;
  /** --max-time in ms */
  timeoutMs?: number;
}

export interface ResponseModel {
  status: number;
  statusText: string;
  /** "HTTP/1.1", "HTTP/2" ... */
  httpVersion: string;
  headers: Header[];
  body: Buffer;
  /** True when the body was cut at a size cap or the recording omitted it. */
  bodyTruncated: boolean;
}

/** One request and the answer it got. `redirects` holds earlier hops that led here, oldest first. */
export interface Exchange {
  request: RequestModel;
  response: ResponseModel;
  redirects: Exchange[];
  /** Date the exchange happened, if known (HAR startedDateTime, Date header). */
  startedAt?: Date;
}

/** A fact with a source and a weight for each cause it speaks for (positive) or against (negative). */
export interface Evidence {
  /** Where the fact comes from: "response", "request", "probe #3", "error.log:17", "nginx.conf:42". */
  source: string;
  /** A sentence a person can read. Never holds an unredacted secret. */
  fact: string;
  /** Log-odds style weights: ~1 weak, ~3 strong, ~6 decisive; negative rules a cause out. */
  weights: Partial<Record<CauseId, number>>;
  /** Optional details reports may use (rule id, trigger, product). */
  data?: Record<string, unknown>;
}

export interface Responder {
  layer: Layer;
  product: string | null;
  evidence: string[];
  /** Operator-searchable ids: Cloudflare Ray ID, Akamai reference, unique_id ... */
  references?: Array<{ label: string; value: string }>;
  /** Relays seen on the path that passed the refusal through, client side first. */
  relays?: Array<{ layer: Layer; product: string | null; evidence: string[] }>;
}

export interface Trigger {
  location: TriggerLocation;
  name: string | null;
  minimal: string;
  /** Extra fragments when an anomaly-scoring WAF needs several together. */
  parts?: Array<{ location: TriggerLocation; name: string | null; value: string }>;
  /** SQL injection, XSS, ... */
  family?: string;
}

export interface ProbeRecord {
  purpose: string;
  method: string;
  url: string;
  status: number | null;
  finding: string;
  /** safe-method | decoy | may-execute | replay */
  safety?: "replay" | "safe-method" | "decoy" | "may-execute";
  requestId?: string;
  durationMs?: number;
  error?: string;
}

export interface CauseScore {
  cause: CauseId;
  confidence: number;
}

export interface Verdict {
  cause: CauseId;
  confidence: number;
  summary: string;
  evidence: string[];
  fix: string[];
}

/**
 * What the run sent that application code could have executed: every request
 * other than the single replay with a non-safe method (or a body, or a method
 * override) to a path where application code may answer.
 */
export interface SideEffects {
  unsafeProbes: number;
  /** One entry per such request: its probe number, method, redacted URL and why it could execute. */
  unsafe?: Array<{ n: number; method: string; url: string; why: string }>;
  /** Extension: what was not sent because it could execute, and what would allow it. */
  withheld?: string[];
}

/** Why the server gave no usable answer: the contract's failure kinds. */
export interface BaselineFailure {
  kind: "reset" | "timeout" | "tls" | "malformed" | "too-large" | "refused-connection" | "dns" | "other";
  message: string;
}

/** The report, shaped per the contract's why403.report/v1 (plus optional extensions). */
export interface Report {
  schema: "why403.report/v1";
  target: { method: string; url: string };
  baseline: {
    status: number | null;
    responder: Responder;
    /** No usable answer from the server (exit 4): what went wrong. Absent or null otherwise. */
    failure?: BaselineFailure | null;
  };
  verdict: Verdict | null;
  candidates: CauseScore[];
  trigger: Trigger | null;
  probes: ProbeRecord[];
  sideEffects: SideEffects;
  /** Extension: what to try next when the evidence is thin. */
  nextSteps?: string[];
  /** Extension: "recording" (offline) or "live". */
  mode?: "recording" | "live";
  /** Extension: the request was not refused (exit 3). */
  notRefused?: boolean;
}
