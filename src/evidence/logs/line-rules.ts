// The line rules of the single-line formats as one plain value: what the local
// parsers run and what the ClickHouse query is generated from. A rule is a
// pattern, the fields it extracts (by group number) and the cause it means.
// The parsers keep the patterns; this module only gathers them, so that a rule
// changed in a parser changes the SQL too (one source of truth).
import type { CauseId } from "../../model.js";
import { REFUSAL_STATUSES } from "../../model.js";
import { ACCESS_RE, ID_FIELD } from "./access.js";
import {
  APACHE_CLIENT_RE,
  APACHE_CODE_RE,
  APACHE_CODE_RULES,
  APACHE_ERROR_LINE_RE,
  APACHE_PID_RE,
  APACHE_REFERER_RE,
} from "./apache-error.js";
import { RATE_RULE_FAMILY_RE, STATUS_CAUSES } from "./classify.js";
import { NGINX_CONTEXT_RE, NGINX_ERROR_LINE_RE, NGINX_ERROR_RULES } from "./nginx-error.js";
import { CLIENT_RE, REQUEST_LINE_RE } from "./record.js";
import { APACHE_TIME_RE, CLF_TIME_RE, MONTH_NAMES } from "./time.js";
import {
  WAF_CLIENT_RE,
  WAF_DISRUPTIVE_PREFIXES,
  WAF_LINE_TIME_RE,
  WAF_MARKER_RE,
  WAF_STATUS_RE,
  wafFieldPattern,
} from "./waf.js";

/** A message rule: when `pattern` matches the message, the line is a refusal for `cause`. */
export interface MessageRule {
  pattern: RegExp;
  cause: CauseId;
  /** The status the message implies, or null (the access line says it). */
  status: number | null;
}

export interface LineRules {
  access: {
    /** Whole line; groups: 3 client, 6 time, 7 request line, 8 status, 12 trailing fields. */
    line: RegExp;
    time: RegExp;
    months: string[];
    refusalStatuses: number[];
    statusCauses: ReadonlyArray<readonly [number, CauseId]>;
    /** key=value request ids in the trailing fields (group 1 key, 2 raw value, 3 quoted value). */
    idField: RegExp;
  };
  nginxError: {
    /** Whole line; groups: 1 time, 6 message. */
    line: RegExp;
    /** In the message; groups: 1 client, 3 request line. */
    context: RegExp;
    rules: MessageRule[];
  };
  apacheError: {
    /** Whole line; groups: 1 time, 4 message. */
    line: RegExp;
    /** Group 1 month name, 2 day, 3-5 h:m:s, 7 year (local time). */
    time: RegExp;
    pidPrefix: RegExp;
    client: RegExp;
    referer: RegExp;
    /** "AH01630: …": group 1 the code. */
    code: RegExp;
    /** `uri`: group 1 the URL the message names. */
    rules: Array<{ code: string; cause: CauseId; status: number; uri?: RegExp }>;
  };
  waf: {
    /** Group 1 the engine, group 2 the action. */
    marker: RegExp;
    disruptivePrefixes: string[];
    status: RegExp;
    client: RegExp;
    field: (name: string) => string;
    rateFamily: RegExp;
    /** A standalone WAF line's leading time stamp (group 1). */
    lineTime: RegExp;
  };
  client: typeof CLIENT_RE;
  /** "POST /p HTTP/1.1": group 2 the target. */
  requestLine: RegExp;
}

/** The rules of the built-in single-line formats. */
export const LINE_RULES: LineRules = {
  access: {
    line: ACCESS_RE,
    time: CLF_TIME_RE,
    months: MONTH_NAMES,
    refusalStatuses: [...REFUSAL_STATUSES],
    statusCauses: STATUS_CAUSES,
    idField: ID_FIELD,
  },
  nginxError: {
    line: NGINX_ERROR_LINE_RE,
    context: NGINX_CONTEXT_RE,
    rules: NGINX_ERROR_RULES.map((r) => ({ pattern: r.re, cause: r.cause, status: r.status })),
  },
  apacheError: {
    line: APACHE_ERROR_LINE_RE,
    time: APACHE_TIME_RE,
    pidPrefix: APACHE_PID_RE,
    client: APACHE_CLIENT_RE,
    referer: APACHE_REFERER_RE,
    code: APACHE_CODE_RE,
    rules: APACHE_CODE_RULES.map((r) => ({ code: r.code, cause: r.cause, status: r.status, uri: r.uri })),
  },
  waf: {
    marker: WAF_MARKER_RE,
    disruptivePrefixes: WAF_DISRUPTIVE_PREFIXES,
    status: WAF_STATUS_RE,
    client: WAF_CLIENT_RE,
    field: wafFieldPattern,
    rateFamily: RATE_RULE_FAMILY_RE,
    lineTime: WAF_LINE_TIME_RE,
  },
  client: CLIENT_RE,
  requestLine: REQUEST_LINE_RE,
};
