// JSON-lines application logs: pino, bunyan, winston, structlog, Django's JSON
// logging and the like. A line is a denial when a status field says 401/403/…,
// or, without a status, when a warning-or-worse message says "forbidden",
// "CSRF", "denied" and the like.
import type { CauseId } from "../../model.js";
import { causeFromStatus, causeFromWords, DENIAL_WORDS } from "./classify.js";
import {
  addId,
  clientAddress,
  clip,
  isRefusalStatus,
  makeRecord,
  pathOnly,
  REQUEST_LINE_RE,
} from "./record.js";
import type { RequestStart } from "./request-starts.js";
import { parseFreeText } from "./rule-record.js";
import { parseAnyTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";
import { applyWafMessage, parseWafMessage } from "./waf.js";

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;
}

/** Follows dotted paths; the first present value wins. */
function pick(doc: Json, paths: string[]): unknown {
  for (const p of paths) {
    let cur: unknown = doc;
    for (const key of p.split(".")) {
      const o = obj(cur);
      if (!o || !(key in o)) {
        cur = undefined;
        break;
      }
      cur = o[key];
    }
    if (cur !== undefined && cur !== null && cur !== "") return cur;
  }
  return undefined;
}

/** Which logger wrote the line, from its field names (only for the format id). */
export function appFlavour(doc: Json): string {
  if (typeof doc.level === "number" && typeof doc.time === "number" && "msg" in doc) return "pino";
  if (typeof doc.v === "number" && "name" in doc && "hostname" in doc && "msg" in doc) return "bunyan";
  if ("levelname" in doc) return "django";
  if ("event" in doc && ("timestamp" in doc || "level" in doc)) return "structlog";
  if (typeof doc.level === "string" && "message" in doc) return "winston";
  if ("logger" in doc && "ts" in doc) return "zap";
  return "lines";
}

const STATUS_PATHS = [
  "res.statusCode",
  "res.status",
  "response.statusCode",
  "response.status",
  "response.status_code",
  "statusCode",
  "status_code",
  "status",
  "http.status_code",
  "http.response.status_code",
  "err.status",
  "err.statusCode",
  "error.status",
  // Google Cloud Logging's LogEntry (Cloud Run, App Engine, GKE ingress).
  "httpRequest.status",
];
const MESSAGE_PATHS = [
  "msg",
  "message",
  "event",
  "err.message",
  "error.message",
  "error",
  "reason",
  "errorMessage",
];
/** Details that often say more than the main message ("request completed"). */
const DETAIL_PATHS = ["err.message", "error.message", "reason", "detail", "errorMessage"];
const CODE_PATHS = ["code", "err.code", "error.code", "err.type", "error.type"];
const PATH_PATHS = [
  "req.url",
  "req.path",
  "request.url",
  "request.path",
  "url",
  "path",
  "http.url",
  "http.target",
  "uri",
  // API gateways: AWS API Gateway's usual $context names, Kong's file log.
  "resourcePath",
  "request.uri",
  // nginx's JSON log_format with its variables' names ($request_uri); Cloud Logging's httpRequest.
  "request_uri",
  "httpRequest.requestUrl",
  // PHP Monolog's WebProcessor (extra.url, extra.http_method, extra.ip).
  "extra.url",
];
const METHOD_PATHS = [
  "req.method",
  "request.method",
  "method",
  "http.method",
  "http.request.method",
  "httpMethod",
  "request_method",
  "httpRequest.requestMethod",
  "extra.http_method",
];
const CLIENT_PATHS = [
  "req.remoteAddress",
  "req.ip",
  "remoteAddress",
  "remote_addr",
  "client_ip",
  "clientIp",
  "ip",
  "http.client_ip",
  "client.ip",
  "sourceIp",
  // Echo's and GitLab's (remote_ip), and other spellings of the same.
  "remote_ip",
  "remoteIp",
  "remote_address",
  "client_address",
  "source_ip",
  // Heroku's router: the X-Forwarded-For it received.
  "fwd",
  "httpRequest.remoteIp",
  "extra.ip",
];
const ID_PATHS = [
  "req.headers.x-request-id",
  "request_id",
  "requestId",
  "req_id",
  "reqId",
  "x_request_id",
  "req.id",
  "request.id",
  "correlation_id",
  "trace_id",
];
// "t": Grafana's (log15) logfmt lines; "requestTime": AWS API Gateway's; "started_at": Kong's;
// "time_local", "time_iso8601", "msec": nginx's JSON log_format with its variables' names.
const TIME_PATHS = [
  "time",
  "timestamp",
  "@timestamp",
  "ts",
  "asctime",
  "date",
  "t",
  "requestTime",
  "started_at",
  "time_local",
  "time_iso8601",
  "msec",
  // Monolog's JsonFormatter.
  "datetime",
];
/** Words in a level that make a status-less line worth reading ("eror": log15's, as Grafana writes it). */
const LOUD_LEVEL = /warn|error|eror|fatal|crit|alert|emerg/i;

function levelIsLoud(doc: Json): boolean {
  // Monolog names its level beside a number of its own scale (300 = WARNING).
  const level = doc.level_name ?? doc.level ?? doc.levelname ?? doc.severity ?? doc.lvl;
  if (typeof level === "number") return level >= 40; // pino/bunyan: 40 warn, 50 error
  if (typeof level === "string") return LOUD_LEVEL.test(level);
  return true;
}

/** A JSON line's object, or a logfmt line's pairs (logfmt.ts), read as an application log line. */
export function parseAppJson(doc: Json, file: string, n: number, format: string): LogRecord | null {
  const main = str(pick(doc, MESSAGE_PATHS)) ?? "";
  const detail = str(pick(doc, DETAIL_PATHS));
  const message = detail && !main.includes(detail) ? `${main}: ${detail}` : main;
  const rec = makeRecord({ file, line: n, format, kind: "app", product: "app" });
  rec.time = parseAnyTime(pick(doc, TIME_PATHS));
  // Caddy + Coraza and the like: the WAF line sits in the message.
  const waf = message ? parseWafMessage(message) : null;
  if (waf) {
    applyWafMessage(rec, waf);
    return rec;
  }
  const rawStatus = Number(pick(doc, STATUS_PATHS));
  rec.status = Number.isInteger(rawStatus) && rawStatus >= 100 && rawStatus <= 599 ? rawStatus : null;
  if (rec.status !== null && !isRefusalStatus(rec.status)) return null;
  // A framework's refusal line says the same inside JSON or logfmt (Spring's CsrfFilter at DEBUG,
  // CrowdSec's ban at info): the message families plain text lines are read with come first.
  // A rule that names the mechanism decides; one that leaves the cause to the status
  // (Django's "Forbidden: /path") makes the line a refusal, and the words may still name the cause.
  const named = message
    ? (parseFreeText(message, file, n, str(pick(doc, CLIENT_PATHS)))?.record ?? null)
    : null;
  if (named !== null && named.strength === STRENGTH.server) {
    readRequestFields(rec, doc);
    return namedRefusal(named, rec);
  }
  const words = `${message} ${str(pick(doc, CODE_PATHS)) ?? ""}`;
  if (named === null && rec.status === null && !(DENIAL_WORDS.test(words) && levelIsLoud(doc))) return null;
  rec.denied = true;
  readRequestFields(rec, doc);
  if (named !== null) takeWhatTheRuleSays(rec, named);
  classifyByWordsOrStatus(rec, words);
  rec.message = clip(message || `status ${rec.status}`);
  return rec;
}

/** A rule that leaves the cause to the status: its status (the line recording none) and what its message names. */
function takeWhatTheRuleSays(rec: LogRecord, named: LogRecord): void {
  if (rec.status === null && named.status !== null) {
    rec.status = named.status;
    rec.statusInferred = true;
  }
  rec.path ??= named.path;
  rec.client ??= named.client;
}

/** The cause the words name (a business rule giving way to a 401/419/429), else the one the status names. */
function classifyByWordsOrStatus(rec: LogRecord, words: string): void {
  const byWords = businessRuleAgainstStatus(causeFromWords(words), rec.status);
  if (byWords) {
    rec.cause = byWords;
    rec.strength = STRENGTH.words;
    return;
  }
  const byStatus = causeFromStatus(rec.status);
  if (byStatus !== "unknown") {
    rec.cause = byStatus;
    rec.strength = STRENGTH.status;
  }
}

/**
 * The record a message rule made from the line's message, in the line's format,
 * with what the JSON fields say of the request (time, status, method, path,
 * client, id) where the message did not say it; a status the line records
 * outranks one the rule implies.
 */
function namedRefusal(named: LogRecord, line: LogRecord): LogRecord {
  named.format = line.format;
  named.kind = line.kind;
  named.time ??= line.time;
  if (line.status !== null && (named.status === null || named.statusInferred)) {
    named.status = line.status;
    named.statusInferred = false;
  }
  named.method ??= line.method;
  named.path ??= line.path;
  named.client ??= line.client;
  for (const id of line.ids) addId(named, id);
  named.requestId ??= line.requestId;
  return named;
}

/** Method, path, client and request id from the JSON fields. */
function readRequestFields(rec: LogRecord, doc: Json): void {
  const start = requestOf(doc);
  rec.method = start.method;
  rec.path = start.path;
  rec.client = start.client;
  const id = str(pick(doc, ID_PATHS));
  if (id) {
    addId(rec, id);
    rec.requestId = id;
  }
}

/** The method, path and client the JSON fields name. */
function requestOf(doc: Json): RequestStart {
  let method = str(pick(doc, METHOD_PATHS));
  let target = str(pick(doc, PATH_PATHS));
  // Django: "request": "<WSGIRequest: POST '/x'>"
  const request = str(doc.request) ?? "";
  const djangoReq = /<\w*Request: (\w+) '([^']*)'>/.exec(request);
  if (djangoReq) {
    method ??= djangoReq[1] as string;
    target ??= djangoReq[2] as string;
  }
  // nginx's $request in a JSON log_format: "POST /path HTTP/1.1".
  const line = djangoReq ? null : REQUEST_LINE_RE.exec(request);
  if (line) {
    method ??= line[1] as string;
    target ??= line[2] as string;
  }
  const client = str(pick(doc, CLIENT_PATHS));
  return {
    method,
    path: target ? pathOnlyKeepQuery(target) : null,
    client: client ? clientAddress(client) : null,
  };
}

/**
 * The request a line names when it names one and no answer (no status: Fastify's
 * "incoming request"), with the id that ties it to the line with the answer.
 */
export function requestStartOf(doc: Json): { id: string; start: RequestStart } | null {
  if (pick(doc, STATUS_PATHS) !== undefined) return null;
  const id = str(pick(doc, ID_PATHS));
  if (!id) return null;
  const start = requestOf(doc);
  return start.method === null && start.path === null ? null : { id, start };
}

/** Absolute URLs lose scheme and host; the query stays as the app logged it. */
function pathOnlyKeepQuery(target: string): string {
  const p = pathOnly(target);
  const q = target.indexOf("?");
  return q === -1 ? p : p + target.slice(q);
}

/**
 * A business-rule message ("exceeds the per-order limit", "the resource is
 * locked") on a line whose status says credentials (401), CSRF (419) or a rate
 * (429): the status is the stronger evidence, the words are dropped.
 */
function businessRuleAgainstStatus(cause: CauseId | null, status: number | null): CauseId | null {
  if (cause === "app-logic" && (status === 401 || status === 419 || status === 429)) return null;
  return cause;
}
