// ModSecurity audit logs: the v2 "Serial"/Native multi-line format
// (--1a2b3c4d-A-- … -Z--) and the JSON formats of ModSecurity 2.9, libmodsecurity 3
// and Coraza (one transaction per line). One transaction → one record.
import { applyApacheCode } from "./apache-error.js";
import { causeFromRules } from "./classify.js";
import { addId, clientAddress, clip, isRefusalStatus, makeRecord, splitRequestLine } from "./record.js";
import { parseAnyTime, parseClfTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";
import { parseWafMessage } from "./waf.js";

/** A serial audit record's section line (--1a2b3c4d-A--): its id and section. */
export const AUDIT_BOUNDARY = /^--([0-9a-zA-Z]{8,})-([A-Z])--\s*$/;
const BOUNDARY = AUDIT_BOUNDARY;
/** Bounds what one transaction may hold, whatever the log says. */
const MAX_MESSAGES = 200;

export function isAuditBoundary(line: string): boolean {
  // Most lines of a mixed log are not: one character tells before the pattern runs.
  return line.charCodeAt(0) === 0x2d /* - */ && BOUNDARY.test(line);
}

interface SerialState {
  rec: LogRecord;
  section: string;
  sectionLine: number;
  messages: string[];
  errors: string[];
  intercepted: boolean;
  detectionOnly: boolean;
}

/** Stateful reader for the serial format: feed lines, get a record at each -Z-- (or at the end). */
export class SerialAuditParser {
  private state: SerialState | null = null;
  constructor(
    private readonly file: string,
    private readonly format: string,
  ) {}

  feed(text: string, n: number): LogRecord | null {
    const b = BOUNDARY.exec(text);
    if (b) {
      const section = b[2] as string;
      if (section === "A") {
        const done = this.finish();
        this.state = {
          rec: makeRecord({
            file: this.file,
            line: n,
            format: this.format,
            kind: "audit",
            product: "modsecurity",
          }),
          section,
          sectionLine: 0,
          messages: [],
          errors: [],
          intercepted: false,
          detectionOnly: false,
        };
        return done;
      }
      if (section === "Z") return this.finish();
      if (this.state) {
        this.state.section = section;
        this.state.sectionLine = 0;
      }
      return null;
    }
    const st = this.state;
    if (!st) return null;
    st.sectionLine++;
    const rec = st.rec;
    switch (st.section) {
      case "A": {
        // [26/Nov/2026:07:01:19.921380 +0000] UNIQUE_ID 127.0.0.1 46784 127.0.0.1 18582
        const a = /^\[([^\]]+)\] (\S+) (\S+) \d+/.exec(text);
        if (a && st.sectionLine === 1) {
          rec.time = parseClfTime(a[1] as string);
          addId(rec, a[2]);
          rec.client = clientAddress(a[3] as string);
        }
        break;
      }
      case "B":
        if (st.sectionLine === 1) {
          const r = splitRequestLine(text);
          rec.method = r.method;
          rec.path = r.path;
        } else {
          const h = /^x-request-id:\s*(\S+)/i.exec(text);
          if (h) {
            addId(rec, h[1]);
            rec.requestId = h[1] as string;
          }
        }
        break;
      case "F":
        if (st.sectionLine === 1) {
          const f = /^HTTP\/[\d.]+ (\d{3})/.exec(text);
          if (f) rec.status = Number(f[1]);
        }
        break;
      case "H":
        if (text.startsWith("Message: ") && st.messages.length < MAX_MESSAGES)
          st.messages.push(text.slice(9));
        else if (text.startsWith("Apache-Error: ") && st.errors.length < MAX_MESSAGES)
          st.errors.push(text.slice(14));
        else if (/^Action: Intercepted/.test(text)) st.intercepted = true;
        else if (/^Engine-Mode: "?DETECTION_ONLY/.test(text)) st.detectionOnly = true;
        break;
      default:
        break;
    }
    return null;
  }

  /** Emits the transaction being read, if any. */
  /** A record is open: lines up to its end belong to it. */
  get open(): boolean {
    return this.state !== null;
  }

  finish(): LogRecord | null {
    const st = this.state;
    this.state = null;
    if (!st) return null;
    return finishTransaction(st.rec, st.messages, st.errors, st.intercepted, st.detectionOnly);
  }
}

/** Shared by the serial and JSON readers: decide denial and cause from the collected messages. */
function finishTransaction(
  rec: LogRecord,
  messages: string[],
  errors: string[],
  intercepted: boolean,
  detectionOnly = false,
): LogRecord {
  const rules: string[] = [];
  const ruleMessages: string[] = [];
  let disruptive = false;
  let engine: "modsecurity" | "coraza" = "modsecurity";
  for (const m of messages) {
    const w = parseWafMessage(/^(ModSecurity|Coraza):/.test(m) ? m : `ModSecurity: ${m}`);
    if (!w) continue;
    engine = w.engine;
    if (w.disruptive) disruptive = true;
    if (w.ruleId && !rules.includes(w.ruleId)) {
      rules.push(w.ruleId);
      if (w.msg) ruleMessages.push(w.ruleId, clip(w.msg, 160));
    }
  }
  rec.product = engine;
  rec.rules = rules;
  if (rules.length > 0) rec.ruleMessages = ruleMessages;
  // An engine in DetectionOnly only logs: whatever refused the request, it was not the WAF.
  if (detectionOnly) {
    disruptive = intercepted = false;
    rec.detectionOnly = true;
  }
  rec.denied = isRefusalStatus(rec.status) || disruptive || intercepted;
  if (disruptive || (intercepted && rules.length > 0)) {
    rec.cause = causeFromRules(rules);
    rec.strength = STRENGTH.server;
    rec.message = clip(`${engine === "coraza" ? "Coraza" : "ModSecurity"} refused the request`);
  } else if (errors.some((e) => applyApacheCode(rec, e))) {
    // Not the WAF: the audit log recorded Apache's own refusal (AH01630, AH00035 …).
    rec.kind = "audit";
  } else if (detectionOnly && rules.length > 0) {
    rec.message = `${engine === "coraza" ? "Coraza" : "ModSecurity"} in DetectionOnly matched ${rules.join(", ")} but only logged: the ${rec.status ?? "?"} came from the server or application behind it`;
  } else {
    rec.message = `audit record: status ${rec.status ?? "?"}`;
  }
  return rec;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : null;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : null;
}

function headerValue(headers: unknown, name: string): string | null {
  const h = obj(headers);
  if (!h) return null;
  for (const [k, v] of Object.entries(h)) {
    if (k.toLowerCase() !== name) continue;
    return Array.isArray(v) ? str(v[0]) : str(v);
  }
  return null;
}

/** True for a parsed JSON line that is an audit transaction. */
export function isAuditJson(doc: Json): boolean {
  const t = obj(doc.transaction);
  return t !== null && ("unique_id" in t || "transaction_id" in t || "id" in t || "client_ip" in t);
}

/** One JSON audit transaction (ModSecurity 2.9 JSON, libmodsecurity 3 JSON, Coraza JSON). */
export function parseAuditJson(doc: Json, file: string, n: number, format: string): LogRecord {
  const t = obj(doc.transaction) ?? {};
  // v2 keeps request/response/audit_data beside transaction, v3 and Coraza inside it.
  const request = obj(t.request) ?? obj(doc.request) ?? {};
  const response = obj(t.response) ?? obj(doc.response) ?? {};
  const rec = makeRecord({ file, line: n, format, kind: "audit", product: "modsecurity" });
  rec.time = parseAnyTime(t.time ?? t.time_stamp ?? t.timestamp ?? t.unix_timestamp);
  addId(rec, str(t.unique_id ?? t.transaction_id ?? t.id));
  const client = str(t.client_ip ?? t.remote_address);
  rec.client = client ? clientAddress(client) : null;
  const line = str(request.request_line);
  if (line) {
    const r = splitRequestLine(line);
    rec.method = r.method;
    rec.path = r.path;
  } else {
    rec.method = str(request.method);
    rec.path = str(request.uri);
  }
  const rid = headerValue(request.headers, "x-request-id");
  if (rid) {
    addId(rec, rid);
    rec.requestId = rid;
  }
  const status = Number(response.status ?? response.http_code);
  rec.status = Number.isInteger(status) && status > 0 ? status : null;

  const messages: string[] = [];
  const errors: string[] = [];
  const auditData = obj(doc.audit_data) ?? obj(t.audit_data) ?? {};
  for (const m of arr(auditData.messages)) if (typeof m === "string") messages.push(m);
  for (const m of arr(auditData.error_messages)) if (typeof m === "string") errors.push(m);
  // v3 / Coraza: messages[] of { message, details: { ruleId } } or { message, data: { id, msg } }.
  for (const m of arr(t.messages ?? doc.messages)) {
    const o = obj(m);
    if (!o) continue;
    const details = obj(o.details) ?? obj(o.data) ?? {};
    const id = str(details.ruleId ?? details.id);
    const msg = str(details.msg) ?? str(o.message) ?? "";
    if (id) messages.push(`Warning. [id "${id}"] [msg "${msg.replace(/"/g, "'")}"]`);
  }
  // v2 JSON says so in audit_data.action; v3 and Coraza only by the status.
  const intercepted = obj(auditData.action)?.intercepted === true || rec.status === 403;
  // v2 JSON: audit_data.engine_mode; libmodsecurity 3: producer.secrules_engine.
  const detectionOnly =
    str(auditData.engine_mode) === "DETECTION_ONLY" ||
    str(obj(t.producer)?.secrules_engine) === "DetectionOnly";
  const out = finishTransaction(
    rec,
    messages.slice(0, MAX_MESSAGES),
    errors.slice(0, MAX_MESSAGES),
    intercepted,
    detectionOnly,
  );
  if (str(obj(t.producer)?.connector)?.includes("coraza")) out.product = "coraza";
  return out;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
