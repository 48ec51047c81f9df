// Shapes of the `why403 logs` report (contract: why403.logs/v1) and the
// internal record every format parser produces.
import type { CauseId } from "../../model.js";

export type LogCause = CauseId | "unknown";

export interface LogsOptions {
  /** Cap on `entries` (default 200). Counts are never capped. */
  limit?: number;
  since?: Date;
  until?: Date;
  /** Keep only denials with one of these statuses. */
  status?: number[];
  /** Keep only denials whose URL path contains this text (a prefix is a special case). */
  path?: string;
  /** Custom nginx `log_format` / Apache `LogFormat` strings by name. */
  logFormats?: Record<string, string>;
  /**
   * nginx / Apache config: decides whether an "access forbidden by rule" /
   * AH01630 refusal was an address rule or a blanket deny.
   */
  nginxConf?: string;
  apacheConf?: string;
  /** Stream read for the path "-" (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /**
   * Worker threads that read a plain file larger than rangeBytes (default 0: the
   * calling thread reads it; it always joins the records). Same report either
   * way; on the 2-core machine measured, one thread was faster (bench/README.md).
   * Stdin and .gz files are always read on the calling thread.
   */
  workers?: number;
  /** Bytes per worker range (default 16 MiB); a file no larger is read on the calling thread. */
  rangeBytes?: number;
  /** Called after a file was read by worker threads: how many ranges, on how many workers. */
  onRanges?: (path: string, ranges: number, workers: number) => void;
  /** Called when worker threads searched a file again for allowed clients on address-rule paths. */
  onAllowedRanges?: (path: string, workers: number) => void;
  /** Called now and then (at most every PROGRESS_INTERVAL_MS) while reading, and once at the end. */
  onProgress?: (p: LogsProgress) => void;
  /**
   * The zone the server wrote its zoneless stamps in (nginx and Apache error
   * logs): an IANA name or an offset like "+02:00" (`--tz`). Unset: the zone the
   * logs' own zoned access stamps show, if the machine's differs (stamp-zone.ts).
   */
  timeZone?: string;
}

export interface LogsProgress {
  /** Bytes of log text read so far (after gunzip), every file together. */
  bytes: number;
  lines: number;
  /** Denials final so far (the join still holds the most recent ones). */
  denials: number;
  elapsedMs: number;
}

export interface LogFileSummary {
  path: string;
  /** Detected format id, e.g. "nginx-combined", "apache-error", "modsec-audit-serial", "binary". */
  format: string;
  lines: number;
  /** Denials this file took part in (a denial joined across files counts in each). */
  denials: number;
  /** Lines longer than MAX_LOG_LINE_BYTES that were cut. */
  cutLines?: number;
  warning?: string;
}

export interface LogEntry {
  /** ISO 8601, or null when the line carried no usable time. */
  time: string | null;
  file: string;
  line: number;
  /** HTTP status, recorded or inferred from the message (see statusInferred). */
  status: number | null;
  method: string | null;
  path: string | null;
  client: string | null;
  cause: LogCause;
  /** The most telling rule id (for CRS: the first matching rule other than the scoring ones). */
  rule: string | null;
  message: string;
  requestId: string | null;
  /** Extension: every rule id that matched for this request. */
  rules?: string[];
  /** Extension: the product that wrote the deciding line (nginx, apache, modsecurity, coraza, app). */
  product?: string;
  /** Extension: other lines joined into this denial. */
  seenIn?: Array<{ file: string; line: number }>;
  /** Extension: the status was inferred from the message, not recorded. */
  statusInferred?: boolean;
  /** Extension: the application's own reason (why403.decision/v1 lines). */
  reason?: string;
}

export interface LogsReport {
  schema: "why403.logs/v1";
  files: LogFileSummary[];
  denials: number;
  byCause: Partial<Record<LogCause, number>>;
  top: {
    paths: Array<[string, number]>;
    clients: Array<[string, number]>;
    rules: Array<[string, number]>;
  };
  entries: LogEntry[];
  /** Present when zoneless stamps were read in a zone other than the machine's: which, and why. */
  stampZone?: { zone: string; from: "option" | "logs" };
}

/** How sure a record is of its cause: decides which side wins when two lines are joined. */
export const STRENGTH = {
  none: 0,
  /** Only the status says it (access line 401/429/...). */
  status: 1,
  /** Words in an application message. */
  words: 2,
  /** A server, WAF or audit record naming the mechanism. */
  server: 3,
} as const;

/** One parsed line (or audit record) before joining. */
export interface LogRecord {
  file: string;
  line: number;
  format: string;
  /** "access" lines record every request; the others only record decisions. */
  kind: "access" | "error" | "waf" | "audit" | "app";
  time: Date | null;
  status: number | null;
  statusInferred: boolean;
  method: string | null;
  path: string | null;
  client: string | null;
  /** Request ids this record carries (X-Request-Id, nginx $request_id, ModSecurity unique_id). */
  ids: string[];
  /** The id shown as `requestId` (the caller's X-Request-Id when known). */
  requestId: string | null;
  cause: LogCause;
  strength: number;
  /** Extra weights for causes the same line could also mean (e.g. AH01630: ip-restriction too). */
  alsoCauses?: Partial<Record<CauseId, number>>;
  rules: string[];
  /**
   * Each rule id's msg, for the entry's message, as pairs [id, msg, id, msg…]
   * with one pair per id (a flat list: rule ids are numbers, and objects keyed
   * by them were slow sparse arrays).
   */
  ruleMessages?: string[];
  message: string;
  product: string | null;
  /** True when this record alone proves a refusal; WAF "Warning." lines do not. */
  denied: boolean;
  /** The application's own reason id (why403.decision/v1 lines). */
  reason?: string;
  /** The WAF engine ran in DetectionOnly: its matches were logged, never enforced. */
  detectionOnly?: boolean;
  /**
   * A proxy's or CDN's line saying its upstream answered the refusal and it
   * passed it on (a message rule's `passedOn`): the upstream's own access line
   * of the request may be in another file (join.ts pairs them).
   */
  passedOn?: boolean;
}
