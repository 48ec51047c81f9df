// Custom access formats: an nginx `log_format` ($variables) or an Apache
// `LogFormat` (%directives) compiled to a regex with known field roles.
import {
  addId,
  causeFromStatusRecord,
  clientAddress,
  isRefusalStatus,
  makeRecord,
  splitRequestLine,
} from "./record.js";
import { parseAnyTime } from "./time.js";
import type { LogRecord } from "./types.js";

type Role =
  | "client"
  | "time"
  | "bracketTime"
  | "request"
  | "method"
  | "uri"
  | "status"
  | "requestId"
  | "callerId"
  | "uniqueId"
  | "user"
  | "other";

export interface CompiledFormat {
  name: string;
  /** "nginx-custom:NAME" or "apache-custom:NAME". */
  id: string;
  re: RegExp;
  roles: Role[];
}

const NGINX_ROLES: Record<string, Role> = {
  remote_addr: "client",
  realip_remote_addr: "client",
  binary_remote_addr: "other",
  time_local: "time",
  time_iso8601: "time",
  msec: "time",
  request: "request",
  request_method: "method",
  request_uri: "uri",
  uri: "uri",
  document_uri: "uri",
  status: "status",
  request_id: "requestId",
  http_x_request_id: "callerId",
  remote_user: "user",
};

const APACHE_ROLES: Record<string, Role> = {
  h: "client",
  a: "client",
  t: "bracketTime",
  r: "request",
  m: "method",
  U: "uri",
  s: "status",
  ">s": "status",
  u: "user",
  L: "requestId",
};

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A field runs up to the next literal character, so the regex never
 * backtracks across fields (no catastrophic cases on long lines).
 */
function fieldPattern(role: Role, nextLiteral: string | null): string {
  if (role === "status") return "(\\d{3})";
  // Apache's %t is "[10/Oct/2000:13:55:36 -0700]", with a space inside.
  if (role === "bracketTime") return "(\\[[^\\]]*\\])";
  if (nextLiteral === null) return "(.*)";
  if (nextLiteral === "") return "(\\S*?)";
  const c = nextLiteral[0] as string;
  return `([^${c === "]" || c === "\\" || c === "^" || c === "-" ? `\\${c}` : c}]*)`;
}

/** nginx `$var` / `${var}` syntax. */
function compileNginx(format: string): { parts: string[]; roles: Role[] } {
  const parts: string[] = [];
  const roles: Role[] = [];
  const re = /\$(?:\{(\w+)\}|(\w+))/g;
  let last = 0;
  for (const m of format.matchAll(re)) {
    parts.push(format.slice(last, m.index));
    const name = (m[1] ?? m[2] ?? "").toLowerCase();
    roles.push(NGINX_ROLES[name] ?? "other");
    parts.push("\u0000");
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(format.slice(last));
  return { parts, roles };
}

/** Apache `%h`, `%>s`, `%{X-Request-Id}i`, `%{UNIQUE_ID}e`, `%{format}t`. */
function compileApache(format: string): { parts: string[]; roles: Role[] } {
  const parts: string[] = [];
  const roles: Role[] = [];
  const re = /%([<>]?)(?:!?\d{3}(?:,\d{3})*)?(?:\{([^}]*)\})?([a-zA-Z%])/g;
  let last = 0;
  const text = format.replace(/\\"/g, '"').replace(/\\t/g, "\t");
  for (const m of text.matchAll(re)) {
    const literal = text.slice(last, m.index);
    last = (m.index ?? 0) + m[0].length;
    const letter = m[3] as string;
    if (letter === "%") {
      // A literal percent sign: glue it to the text before it.
      parts.push(`${literal}%`);
      parts.push(FIELD_JOIN);
      continue;
    }
    parts.push(literal);
    const arg = (m[2] ?? "").toLowerCase();
    let role: Role = APACHE_ROLES[`${m[1]}${letter}`] ?? APACHE_ROLES[letter] ?? "other";
    if (letter === "i" && arg === "x-request-id") role = "callerId";
    else if (letter === "e" && arg === "unique_id") role = "uniqueId";
    else if (letter === "a" && arg === "c") role = "client";
    else if (letter === "t" && arg) role = "time";
    else if (letter === "i" || letter === "e" || letter === "n" || letter === "o") role = "other";
    roles.push(role);
    parts.push("\u0000");
  }
  parts.push(text.slice(last));
  return { parts: mergeLiterals(parts), roles };
}

/** Marks "no field here" between two literals, merged away by mergeLiterals. */
const FIELD_JOIN = "\u0001";

function mergeLiterals(parts: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === FIELD_JOIN) {
      out[out.length - 1] = `${out[out.length - 1] ?? ""}${parts[i + 1] ?? ""}`;
      i++;
    } else out.push(parts[i] as string);
  }
  return out;
}

/**
 * Compiles a named format. Returns null when it has no status field (such a
 * format cannot show a refusal); throws nothing for odd formats.
 */
export function compileLogFormat(name: string, format: string): CompiledFormat | null {
  const nginx = /\$\{?\w/.test(format);
  const { parts, roles } = nginx ? compileNginx(format) : compileApache(format);
  if (!roles.includes("status")) return null;
  // parts alternate literal, FIELD, literal, FIELD, …, literal
  let source = "";
  let field = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (p === "\u0000") {
      const next = parts[i + 1];
      const role = roles[field++] as Role;
      source += fieldPattern(
        role,
        next === undefined || (next === "" && i + 1 === parts.length - 1) ? null : next,
      );
    } else source += escapeRe(p);
  }
  return { name, id: `${nginx ? "nginx" : "apache"}-custom:${name}`, re: new RegExp(`^${source}$`), roles };
}

export function parseCustomLine(
  fmt: CompiledFormat,
  line: string,
  file: string,
  n: number,
): LogRecord | null {
  const m = fmt.re.exec(line);
  if (!m) return null;
  const rec = makeRecord({ file, line: n, format: fmt.id, kind: "access" });
  let callerId: string | null = null;
  let namedId: string | null = null;
  fmt.roles.forEach((role, i) => {
    const v = m[i + 1] ?? "";
    if (v === "" || v === "-") return;
    switch (role) {
      case "client":
        rec.client ??= clientAddress(v);
        break;
      case "time":
      case "bracketTime":
        rec.time ??= parseAnyTime(v);
        break;
      case "request": {
        const r = splitRequestLine(v);
        rec.method ??= r.method;
        rec.path ??= r.path;
        break;
      }
      case "method":
        rec.method = v;
        break;
      case "uri":
        rec.path = v;
        break;
      case "status":
        rec.status = Number(v);
        break;
      case "callerId":
        callerId ??= v;
        addId(rec, v);
        break;
      case "requestId":
        namedId ??= v;
        addId(rec, v);
        break;
      case "uniqueId":
        addId(rec, v);
        break;
      default:
        break;
    }
  });
  if (rec.status === null) return null;
  rec.requestId = callerId ?? namedId ?? rec.ids[0] ?? null;
  rec.denied = isRefusalStatus(rec.status);
  rec.message = `${rec.method ?? "?"} ${rec.path ?? "?"} → ${rec.status}`;
  causeFromStatusRecord(rec);
  return rec;
}
