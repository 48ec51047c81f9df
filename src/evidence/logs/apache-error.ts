// Apache 2.4 error log: "[Thu Nov 26 05:00:00.123456 2026] [authz_core:error]
// [pid 12:tid 34] [client 1.2.3.4:5678] AH01630: client denied by server
// configuration: /srv/x". The AH codes that mean a refusal become records.
import type { CauseId } from "../../model.js";
import { cachedMatcher } from "./match-cache.js";
import { clientAddress, clip, makeRecord } from "./record.js";
import { parseApacheErrorTime } from "./time.js";
import { type LogRecord, STRENGTH } from "./types.js";
import { applyWafMessage, parseWafMessage } from "./waf.js";

export const APACHE_ERROR_LINE_RE =
  /^\[([A-Za-z]{3} [A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4})\] \[([\w-]*):(\w+)\] (.*)$/;

/** The dispatcher asks "is it one?" then parses the same line: one match for both. */
const matchLine = cachedMatcher(APACHE_ERROR_LINE_RE);

export function isApacheErrorLine(line: string): boolean {
  return matchLine(line) !== null;
}

export interface ApacheCodeRule {
  code: string;
  cause: CauseId;
  status: number;
  also?: Partial<Record<CauseId, number>>;
  /** Pulls the URL path from the message when it names one. */
  uri?: RegExp;
  say: (text: string) => string;
}

export const APACHE_CODE_RULES: ApacheCodeRule[] = [
  {
    code: "AH01630",
    // mod_authz_core logs the same line for `Require ip …` and for `Require all denied`:
    // both readings weigh the same, the config (or the probes) tells which.
    cause: "server-config",
    status: 403,
    also: { "ip-restriction": 4 },
    say: (t) =>
      `Apache's Require rules refused the client (AH01630: an address rule or a blanket deny)${fsPath(t, /configuration: (.*)$/)}`,
  },
  {
    code: "AH01797",
    cause: "ip-restriction",
    status: 403,
    also: { "server-config": 1 },
    say: (t) =>
      `Apache's legacy Order/Deny from rules refused the client (AH01797)${fsPath(t, /configuration: (.*)$/)}`,
  },
  {
    code: "AH00035",
    cause: "fs-permission",
    status: 403,
    uri: /access to (\S+) denied/,
    say: (t) =>
      `Apache may not traverse a directory on the path (AH00035, search permission missing)${fsPath(t, /filesystem path '([^']*)'/)}`,
  },
  {
    code: "AH00132",
    cause: "fs-permission",
    status: 403,
    say: (t) =>
      `Apache may not read the file (AH00132, file permissions deny server access)${fsPath(t, /access: (.*)$/)}`,
  },
  {
    code: "AH00529",
    cause: "fs-permission",
    status: 403,
    say: () => "Apache cannot read an .htaccess file on the path (AH00529)",
  },
  {
    code: "AH01276",
    cause: "server-config",
    status: 403,
    say: (t) =>
      `Apache has no DirectoryIndex file and Options -Indexes forbids a listing (AH01276)${fsPath(t, /directory (\S+):/)}`,
  },
  {
    code: "AH00037",
    cause: "server-config",
    status: 403,
    say: () => "Apache refused a symbolic link (AH00037: Options FollowSymLinks/SymLinksIfOwnerMatch)",
  },
  {
    code: "AH01618",
    cause: "credentials-invalid",
    status: 401,
    uri: /not found: (\S+)$/,
    say: (t) =>
      `Apache basic auth: ${/user (\S+) not found/.exec(t)?.[1] ?? "the user"} is not in the password file (AH01618)`,
  },
  {
    code: "AH01617",
    cause: "credentials-invalid",
    status: 401,
    uri: /authentication failure for "([^"]*)"/,
    say: (t) =>
      `Apache basic auth: wrong password for ${/user ([^:]+):/.exec(t)?.[1] ?? "the user"} (AH01617)`,
  },
  {
    code: "AH01614",
    cause: "credentials-invalid",
    status: 401,
    say: () => "Apache auth: the client used the wrong authentication scheme (AH01614)",
  },
  {
    code: "AH01629",
    cause: "insufficient-permission",
    status: 401,
    say: () => "Apache authorization refused the authenticated user (AH01629)",
  },
];

// "[pid 1:tid 2] ", "[client 1.2.3.4:5678]", ", referer: …" and "AH01630: …" in the message.
export const APACHE_PID_RE = /^\[pid [^\]]*\]\s*/;
export const APACHE_CLIENT_RE = /\[client ([^\]]+)\]/;
export const APACHE_REFERER_RE = /, referer: \S*$/;
export const APACHE_CODE_RE = /\b(AH\d{5}):\s*(.*)$/;

function fsPath(text: string, re: RegExp): string {
  const m = re.exec(text);
  return m ? `: ${m[1]}` : "";
}

export function parseApacheErrorLine(
  line: string,
  file: string,
  n: number,
  format: string,
): LogRecord | null {
  const m = matchLine(line);
  if (!m) return null;
  let text = m[4] as string;
  const rec = makeRecord({ file, line: n, format, kind: "error", product: "apache" });
  rec.time = parseApacheErrorTime(m[1] as string);
  // "[pid 1:tid 2] (13)Permission denied: [client 1.2.3.4:5678] AH00035: …"
  text = text.replace(APACHE_PID_RE, "");
  const client = APACHE_CLIENT_RE.exec(text);
  if (client) rec.client = clientAddress(client[1] as string, true);
  text = text.replace(APACHE_REFERER_RE, "");
  const waf = parseWafMessage(text);
  if (waf) {
    applyWafMessage(rec, waf);
    return rec;
  }
  return applyApacheCode(rec, text) ? rec : null;
}

/** Classifies an "AHnnnnn: …" message into the record; false when the code is not a refusal we know. */
export function applyApacheCode(rec: LogRecord, text: string): boolean {
  const code = APACHE_CODE_RE.exec(text);
  if (!code) return false;
  const rule = APACHE_CODE_RULES.find((r) => r.code === code[1]);
  if (!rule) return false;
  const body = code[2] as string;
  rec.cause = rule.cause;
  rec.strength = STRENGTH.server;
  if (rec.status === null) {
    rec.status = rule.status;
    rec.statusInferred = true;
  }
  if (rule.also) rec.alsoCauses = rule.also;
  if (rule.uri) rec.path ??= rule.uri.exec(body)?.[1] ?? null;
  rec.product ??= "apache";
  rec.message = clip(rule.say(body));
  rec.denied = true;
  return true;
}
