// nginx error log: "2026/11/26 05:00:00 [error] 12#12: *3 MESSAGE, client: 1.2.3.4,
// server: x, request: "POST /p HTTP/1.1", host: "x"". Only the messages that
// mean a refusal become records.
import type { CauseId } from "../../model.js";
import { cachedMatcher } from "./match-cache.js";
import { clientAddress, clip, makeRecord, splitRequestLine } from "./record.js";
import { parseNginxErrorTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";
import { applyWafMessage, parseWafMessage } from "./waf.js";

export const NGINX_ERROR_LINE_RE =
  /^(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}) \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)$/;

/** The dispatcher asks "is it one?" then parses the same line: one match for both. */
const matchLine = cachedMatcher(NGINX_ERROR_LINE_RE);

export function isNginxErrorLine(line: string): boolean {
  return matchLine(line) !== null;
}

export interface NginxMessageRule {
  re: RegExp;
  cause: CauseId;
  status: number | null;
  also?: Partial<Record<CauseId, number>>;
  say: (m: RegExpExecArray) => string;
}

/** In order: the first that matches the message wins. */
export const NGINX_ERROR_RULES: NginxMessageRule[] = [
  {
    re: /^access forbidden by rule/,
    cause: "ip-restriction",
    status: 403,
    also: { "server-config": 2 },
    say: () => "nginx allow/deny refused the client (access forbidden by rule)",
  },
  {
    re: /^directory index of "([^"]*)" is forbidden/,
    cause: "server-config",
    status: 403,
    say: (m) => `nginx has no index file in ${m[1]} and autoindex is off (directory index is forbidden)`,
  },
  {
    re: /^(?:open|opendir|stat|realpath|lstat|access)\(\) "([^"]*)" failed \(13: Permission denied\)/,
    cause: "fs-permission",
    status: 403,
    say: (m) => `nginx workers may not read ${m[1]} (13: Permission denied)`,
  },
  {
    re: /^limiting requests, excess: ([\d.]+) by zone "([^"]*)"/,
    cause: "rate-limit",
    status: null,
    say: (m) => `nginx limit_req zone "${m[2]}" refused the request (excess ${m[1]})`,
  },
  {
    re: /^limiting connections by zone "([^"]*)"/,
    cause: "rate-limit",
    status: null,
    say: (m) => `nginx limit_conn zone "${m[1]}" refused the request`,
  },
  {
    re: /^user "([^"]*)" was not found in "([^"]*)"/,
    cause: "credentials-invalid",
    status: 401,
    say: (m) => `nginx auth_basic: user "${m[1]}" is not in ${m[2]}`,
  },
  {
    re: /^user "([^"]*)": password mismatch/,
    cause: "credentials-invalid",
    status: 401,
    say: (m) => `nginx auth_basic: wrong password for user "${m[1]}"`,
  },
  {
    re: /^no user\/password was provided for basic authentication/,
    cause: "credentials-invalid",
    status: 401,
    say: () => "nginx auth_basic: the request carried no credentials",
  },
  {
    re: /^access forbidden by (?:auth_request|satisfy)/,
    cause: "credentials-invalid",
    status: 403,
    say: () => "nginx auth_request refused the request",
  },
];

// ", client: 1.2.3.4, server: x, request: "POST /p HTTP/1.1", host: "x""
export const NGINX_CONTEXT_RE = /, client: ([^,]+)(?:, server: ([^,]*))?(?:, request: "((?:[^"\\]|\\.)*)")?/;

export function parseNginxErrorLine(line: string, file: string, n: number, format: string): LogRecord | null {
  const m = matchLine(line);
  if (!m) return null;
  const text = m[6] as string;
  const rec = makeRecord({ file, line: n, format, kind: "error", product: "nginx" });
  rec.time = parseNginxErrorTime(m[1] as string);
  const ctx = NGINX_CONTEXT_RE.exec(text);
  if (ctx) {
    rec.client = clientAddress(ctx[1] as string);
    const req = splitRequestLine(ctx[3] ?? "");
    rec.method = req.method;
    rec.path = req.path;
  }
  const waf = parseWafMessage(text);
  if (waf) {
    applyWafMessage(rec, waf);
    return rec;
  }
  for (const rule of NGINX_ERROR_RULES) {
    const r = rule.re.exec(text);
    if (!r) continue;
    rec.cause = rule.cause;
    rec.strength = STRENGTH.server;
    rec.status = rule.status;
    rec.statusInferred = rule.status !== null;
    if (rule.also) rec.alsoCauses = rule.also;
    rec.message = clip(rule.say(r));
    rec.denied = true;
    return rec;
  }
  return null;
}
