// The line rules the ClickHouse query is generated from, as one plain value.
// The error-log formats and their refusal messages come from the rule files
// (data/logs/formats/*.json, data/logs/messages/*.json, compiled by rules.ts):
// the very objects the local parsers run, so a rule changed there changes the
// SQL too (one source of truth, no second list). The access line, the status
// causes and the WAF patterns are the exported patterns of their parsers.
import type { CauseId } from "../../model.js";
import { REFUSAL_STATUSES } from "../../model.js";
import { ACCESS_RE, ID_FIELD } from "./access.js";
import { isAddressOrBlanket } from "./allowed-watch.js";
import { RATE_RULE_FAMILY_RE, STATUS_CAUSES } from "./classify.js";
import { RECORD_HINT, STATUS_AT_END } from "./prefilter.js";
import { CLIENT_RE, REQUEST_LINE_RE } from "./record.js";
import { COMPILED_WRAPPERS, type CompiledFormat, formatById, REGEX_FORMATS } from "./rules.js";
import { APACHE_TIME_RE, CLF_TIME_RE, MONTH_NAMES } from "./time.js";
import type { LogRecord } from "./types.js";
import {
  markerWords,
  WAF_ACTION_RE,
  WAF_CLIENT_RE,
  WAF_DISRUPTIVE_PREFIXES,
  WAF_LINE_TIME_RE,
  WAF_MARKER_RE,
  WAF_STATUS_RE,
  wafFieldPattern,
} from "./waf.js";

/** A message rule of a data format, as the SQL needs it. */
export interface DataRule {
  /** Family and rule id (for error messages and tests). */
  id: string;
  /** Unanchored unless it says ^; null: the rule holds on its `where` alone. */
  match: RegExp | null;
  /** The field `match` runs on. */
  on: string;
  /** Every pattern must find in its field. */
  where: Array<[string, RegExp]>;
  /** Fields the rule reads from its own match (name → group). */
  fields: Record<string, number>;
  /** null: recognised and not a refusal; "by-status": the status names the cause. */
  cause: CauseId | "by-status" | null;
  status: number | null;
  /**
   * The rule reads one of "address rule" and "blanket deny" with the other as
   * its alternative (isAddressOrBlanket): the same logs settle which (address-rule.ts).
   */
  addressOrBlanket: boolean;
}

/** A line format of the rule files: its header pattern, fields and rules. */
export interface DataFormat {
  id: string;
  line: RegExp;
  /** Field name → group number of `line`. */
  fields: Record<string, number>;
  /** Field name → [source field, pattern whose group 1 is the value]. */
  extract: Record<string, [string, RegExp]>;
  rules: DataRule[];
  /** "access": its records are access lines (a refusal status alone makes one); "error" otherwise. */
  kind: string;
  /** How its time field reads (time.ts, through rule-record.ts parseTime); undefined: any form. */
  timeKind: string | undefined;
  /** Its client field carries ":port". */
  clientHasPort: boolean;
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
  /** data/logs/formats/nginx-error.json with its message families. */
  nginxError: DataFormat;
  /** data/logs/formats/apache-error.json with its message families. */
  apacheError: DataFormat & {
    /** Group 1 month name, 2 day, 3-5 h:m:s, 7 year (local time). */
    time: RegExp;
  };
  waf: {
    /** Where the WAF part of a message starts. */
    marker: RegExp;
    /** Group 1 the action ("Warning.", "Access denied", …). */
    action: RegExp;
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
  /** The regex envelopes of data/logs/wrappers.json, in order (the JSON ones are not pushed down). */
  wrappers: Array<{ id: string; line: RegExp; message: number; time: number | null }>;
  /** Every regex line format of the rule files: a line one of them reads is not peeled (as locally). */
  formats: RegExp[];
  /**
   * The regex data formats read by the generic branch (rule-record.ts
   * recordOf): REGEX_FORMATS in their order, less the nginx and Apache error
   * formats (their own branches, tried earlier as the dispatcher does).
   */
  dataFormats: DataFormat[];
  /** The catch-all "text" format: its message families, tried on a line nothing else read. */
  freeText: DataFormat;
  /**
   * A line of a data format that can make a record holds one of these: a
   * literal hint of a rule of its families or a refusal status between
   * separators (what the local prefilter, prefilter.ts, also requires of it).
   */
  dataPrefilter: { needles: string[]; patterns: RegExp[] };
  /**
   * A cheap test every line that can make a record passes (in any part of it,
   * envelopes included): one of `needles` is in it, or one of `patterns` finds.
   * It runs on every row before any other pattern; push-down.test.ts checks it
   * against the patterns it stands for.
   */
  prefilter: { needles: string[]; patterns: RegExp[] };
}

/** A compiled data format as the SQL generator reads it. */
export function dataFormat(f: CompiledFormat): DataFormat {
  if (!f.re) throw new Error(`log format ${f.spec.id} has no line pattern to push down`);
  return {
    id: f.spec.id,
    line: f.re,
    fields: Object.fromEntries(f.fields),
    extract: Object.fromEntries(f.extract.map(([name, from, re]) => [name, [from, re]])),
    rules: f.rules.map((r) => ({
      id: `${r.family.family}/${r.spec.id}`,
      match: r.re,
      on: r.on,
      where: r.where,
      fields: r.spec.fields,
      cause: r.cause,
      status: r.spec.status,
      addressOrBlanket: isAddressOrBlanket({ cause: r.cause, alsoCauses: r.spec.also } as LogRecord),
    })),
    kind: f.spec.kind,
    timeKind: f.spec.time,
    clientHasPort: f.spec.clientHasPort === true,
  };
}

/** Formats with a branch of their own in the SQL (push-down.ts), not the generic one. */
const OWN_BRANCH = new Set(["nginx-error", "apache-error"]);

/** The rules of the formats pushed into ClickHouse. */
export const LINE_RULES: LineRules = {
  access: {
    line: ACCESS_RE,
    time: CLF_TIME_RE,
    months: MONTH_NAMES,
    refusalStatuses: [...REFUSAL_STATUSES],
    statusCauses: STATUS_CAUSES,
    idField: ID_FIELD,
  },
  nginxError: dataFormat(formatById("nginx-error")),
  apacheError: { ...dataFormat(formatById("apache-error")), time: APACHE_TIME_RE },
  waf: {
    marker: WAF_MARKER_RE,
    action: WAF_ACTION_RE,
    disruptivePrefixes: WAF_DISRUPTIVE_PREFIXES,
    status: WAF_STATUS_RE,
    client: WAF_CLIENT_RE,
    field: wafFieldPattern,
    rateFamily: RATE_RULE_FAMILY_RE,
    lineTime: WAF_LINE_TIME_RE,
  },
  client: CLIENT_RE,
  requestLine: REQUEST_LINE_RE,
  wrappers: COMPILED_WRAPPERS.flatMap((w) =>
    w.re && w.spec.fields?.message !== undefined
      ? [{ id: w.spec.id, line: w.re, message: w.spec.fields.message, time: w.spec.fields.time ?? null }]
      : [],
  ),
  formats: REGEX_FORMATS.map((f) => f.re as RegExp),
  dataFormats: REGEX_FORMATS.filter((f) => !OWN_BRANCH.has(f.spec.id)).map(dataFormat),
  freeText: dataFormat(formatById("text")),
  dataPrefilter: {
    // The local reader's own test (mayHoldRecord): a line it would not parse makes no record there either.
    needles: [],
    patterns: [RECORD_HINT, STATUS_AT_END],
  },
  prefilter: {
    needles: [
      // An access line's status sits between the request's closing quote and the size.
      ...[...REFUSAL_STATUSES].map((s) => `" ${s} `),
      ...markerWords(WAF_MARKER_RE),
      // nginx error lines: "pid#tid: ".
      "#",
    ],
    // Apache error lines: the level in brackets ("[error] ", "[authz_core:error] ").
    patterns: [/[a-z]\d?\] /],
  },
};
