// What `diagnose()` takes: one input (a request to replay, or a recorded
// exchange) and the CLI's flags in camelCase (contract: "Library").
import type { Transport } from "../http/types.js";
import type { CauseId, Exchange, RequestModel } from "../model.js";

export type DiagnoseInput =
  /** A curl command line, as pasted (the leading `curl` optional): replayed live. */
  | { curl: string }
  /** A HAR file: the entry by index or by a text of its URL, else the first refusal. */
  | { har: string; entry?: number; match?: string }
  /** A saved response (curl -i / -v output, raw HTTP), optionally with the request as curl. */
  | { response: string; requestCurl?: string }
  /** Extension: a request already parsed (replayed live). */
  | { request: RequestModel }
  /** Extension: an exchange already read (offline unless `live`). */
  | { exchange: Exchange };

export interface DiagnoseOptions {
  /** Replay a recorded request (HAR, response) instead of reading the recording only. */
  live?: boolean;
  /** The server's log files (access, error, audit, application). */
  serverLogs?: string[];
  nginxConf?: string;
  apacheConf?: string;
  /** The client address the server sees (IPv4 or IPv6). */
  client?: string;
  /** The user the web server reads files as (file-system walk). */
  fsUser?: string;
  /** Permit may-execute probes (the original method on the original path). */
  allowSideEffects?: boolean;
  maxProbes?: number;
  /** With `allowSideEffects`: at most this many may-execute probes (--max-unsafe). */
  maxUnsafe?: number;
  /** Per-request timeout, ms (default: the request's own --max-time, else 10 s). */
  timeoutMs?: number;
  /** Requests per second (--rate). */
  rate?: number;
  /** Send X-Request-Id with every request (--request-id; default true). */
  requestId?: boolean;
  /** Progress after each experiment (the CLI draws it on stderr). */
  onProgress?: (p: { experiment: string; probesSent: number; leading: CauseId | null }) => void;
  /** The sender; the real network when absent (tests). */
  transport?: Transport;
}
