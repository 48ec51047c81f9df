// Per-line format recognition. Every line is recognised on its own, so mixed
// files (docker logs, several logs concatenated) read as well as pure ones;
// a file's reported format is what most of its first lines were.
import { parseAccessLine, sniffAccess } from "./access.js";
import { isApacheErrorLine, parseApacheErrorLine } from "./apache-error.js";
import { appFlavour, parseAppJson, requestStartOf } from "./app-json.js";
import { isAuditBoundary, isAuditJson, parseAuditJson, SerialAuditParser } from "./audit.js";
import { DECISION_FORMAT, isDecisionLine, parseDecisionLine } from "./decision.js";
import type { LogLine } from "./lines.js";
import { type CompiledFormat, parseCustomLine } from "./log-format.js";
import { LOGFMT_FORMAT, parseLogfmt } from "./logfmt.js";
import { isNginxErrorLine, parseNginxErrorLine } from "./nginx-error.js";
import { RequestStarts } from "./request-starts.js";
import { parseFreeText, parseJsonFormats, parseRuleFormats, recordOf } from "./rule-record.js";
import { MAX_WRAPPERS, type Peeled, peelJson, peelText } from "./rules.js";
import { parseAnyTime, readZonelessIn } from "./time.js";
import type { LogRecord } from "./types.js";
import { W3C_FORMAT, W3cColumns } from "./w3c.js";
import { parseWafLine } from "./waf.js";

export interface LineResult {
  /** Format id of the line, "unknown" when none matched. */
  format: string;
  records: LogRecord[];
}

export class LineDispatcher {
  private readonly serial: SerialAuditParser;
  private inAudit = false;
  private readonly w3c = new W3cColumns();
  private readonly starts = new RequestStarts();

  /**
   * `zone`: the zone this file's zoneless stamps are read in (time.ts), null for
   * the machine's. It is set again before every line: another run in this
   * process may have read its own lines in another zone meanwhile.
   */
  constructor(
    private readonly file: string,
    private readonly custom: CompiledFormat[],
    private readonly zone: string | null = null,
  ) {
    this.serial = new SerialAuditParser(file, "modsec-audit-serial");
  }

  /** Inside a serial audit record: every line counts, whatever it says. */
  get inAuditRecord(): boolean {
    return this.inAudit;
  }

  /** A W3C `#Fields:` list of the file's own is in force: its lines are read by those columns. */
  get readsColumns(): boolean {
    return this.w3c.active;
  }

  /** Some state carries over to the next line (an audit record is open): no place to start a scan afresh. */
  get midRecord(): boolean {
    return this.inAudit || this.serial.open;
  }

  feed(line: LogLine): LineResult {
    readZonelessIn(this.zone);
    const text = line.text;
    if (isAuditBoundary(text) || this.inAudit) {
      const boundary = /-([A-Z])--\s*$/.exec(text)?.[1];
      if (boundary === "A") this.inAudit = true;
      const rec = this.serial.feed(text, line.n);
      if (boundary === "Z") this.inAudit = false;
      return { format: "modsec-audit-serial", records: rec ? [rec] : [] };
    }
    return this.single(text, line.n);
  }

  end(): LogRecord[] {
    readZonelessIn(this.zone);
    const rec = this.serial.finish();
    return rec ? [rec] : [];
  }

  private single(text: string, n: number, depth = 0): LineResult {
    const file = this.file;
    if (isBlank(text)) return { format: "empty", records: [] };
    for (const fmt of this.custom) {
      const rec = parseCustomLine(fmt, text, file, n);
      if (rec) return one(fmt.id, rec);
    }
    const first = text.charCodeAt(0);
    if (depth === 0 && first === 0x23 /* # */) this.w3c.directive(text);
    else if (depth === 0 && this.w3c.active) {
      const read = this.w3c.fields(text);
      if (read) return one(W3C_FORMAT, recordOf(read.format, read.fields, file, n));
    }
    if (first === 0x7b /* { */) {
      const doc = parseJson(text);
      if (doc) {
        if (isDecisionLine(doc)) return one(DECISION_FORMAT, parseDecisionLine(doc, file, n));
        const wrapped = depth < MAX_WRAPPERS ? peelJson(doc) : null;
        if (wrapped) return this.unwrapped(wrapped, n, depth);
        const shaped = parseJsonFormats(doc, file, n);
        if (shaped) return one(shaped.format, shaped.record);
        if (isAuditJson(doc))
          return one("modsec-audit-json", parseAuditJson(doc, file, n, "modsec-audit-json"));
        const format = `json-${appFlavour(doc)}`;
        return one(format, this.appRecord(doc, n, format));
      }
    }
    if (first === 0x5b /* [ */ && isApacheErrorLine(text)) {
      return one("apache-error", parseApacheErrorLine(text, file, n, "apache-error"));
    }
    if (first >= 0x30 && first <= 0x39 && isNginxErrorLine(text)) {
      return one("nginx-error", parseNginxErrorLine(text, file, n, "nginx-error"));
    }
    const access = sniffAccess(text);
    if (access) {
      const format = `access-${access.flavour}${access.extra ? "+fields" : ""}`;
      return one(format, parseAccessLine(text, file, n, format));
    }
    const waf = parseWafLine(text, file, n, "waf-text");
    if (waf) return one("waf-text", waf);
    const ruled = parseRuleFormats(text, file, n);
    if (ruled) return one(ruled.format, ruled.record);
    const wrapped = depth < MAX_WRAPPERS ? peelText(text) : null;
    if (wrapped) return this.unwrapped(wrapped, n, depth);
    const pairs = parseLogfmt(text);
    if (pairs) return one(LOGFMT_FORMAT, this.appRecord(pairs, n, LOGFMT_FORMAT));
    const free = parseFreeText(text, file, n);
    if (free) return one(free.format, free.record);
    return { format: "unknown", records: [] };
  }

  /** An application's JSON or logfmt line: a refusal, completed by its request's first line; or that first line, noted. */
  private appRecord(doc: Record<string, unknown>, n: number, format: string): LogRecord | null {
    const rec = parseAppJson(doc, this.file, n, format);
    if (rec) this.starts.fill(rec);
    else {
      const start = requestStartOf(doc);
      if (start) this.starts.note(start.id, start.start);
    }
    return rec;
  }

  /** The line inside a syslog/journald/container envelope, read as a line of its own. */
  private unwrapped(w: Peeled, n: number, depth: number): LineResult {
    const inner = this.single(w.inner, n, depth + 1);
    if (inner.format === "unknown" || inner.format === "empty") {
      return { format: `${w.wrapper}:unknown`, records: [] };
    }
    const time = w.time ? parseAnyTime(w.time) : null;
    for (const rec of inner.records) rec.time ??= time;
    return { format: inner.format, records: inner.records };
  }
}

/** text.trim() === "", without trimming a line that opens with visible ASCII (nearly every line). */
function isBlank(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c > 0x20 && c < 0x7f) return false;
  return text.trim() === "";
}

function one(format: string, rec: LogRecord | null): LineResult {
  return { format, records: rec ? [rec] : [] };
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Names a file's format from the formats of its first lines. */
export class FormatTally {
  private readonly counts = new Map<string, number>();
  private seen = 0;
  constructor(private readonly sampleSize = 200) {}

  /** The sample is complete: later lines no longer change the name. */
  get full(): boolean {
    return this.seen >= this.sampleSize;
  }

  add(format: string): void {
    if (format === "empty" || this.seen >= this.sampleSize) return;
    this.seen++;
    this.counts.set(format, (this.counts.get(format) ?? 0) + 1);
  }

  name(): string {
    if (this.seen === 0) return "empty";
    const known = [...this.counts.entries()].filter(([f]) => f !== "unknown").sort((a, b) => b[1] - a[1]);
    if (known.length === 0) return "unknown";
    const [top] = known[0] as [string, number];
    // A second format with a fifth of the lines makes it a mixed file.
    const others = known.slice(1).filter(([, c]) => c * 5 >= this.seen);
    return others.length === 0 ? top : `mixed:${[top, ...others.map(([f]) => f)].join(",")}`;
  }
}
