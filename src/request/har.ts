// HAR 1.2 → Exchange. Browsers differ in what they fill in (Chrome adds
// _initiator/_resourceType, Firefox sends postData.params: [] next to text,
// Safari leaves optional fields out and writes -1 sizes), so the schema
// requires only what we use and lets everything else through.

import { z } from "zod";
import { InputError, NotRefusedError } from "../errors.js";
import { hasHeader, headerValue } from "../headers.js";
import type { Exchange, Header, RequestModel, ResponseModel } from "../model.js";
import { redactUrl } from "../redact.js";
import { decodeSavedBody } from "./raw-response.js";

const nameValue = z.looseObject({
  name: z.string(),
  value: z.string().nullish(),
});

const postDataSchema = z.looseObject({
  mimeType: z.string().nullish(),
  text: z.string().nullish(),
  encoding: z.string().nullish(),
  params: z
    .array(
      z.looseObject({
        name: z.string(),
        value: z.string().nullish(),
        fileName: z.string().nullish(),
        contentType: z.string().nullish(),
      }),
    )
    .nullish(),
});

const requestSchema = z.looseObject({
  method: z.string().min(1),
  url: z.string().min(1),
  httpVersion: z.string().nullish(),
  headers: z.array(nameValue).nullish(),
  cookies: z.array(nameValue).nullish(),
  postData: postDataSchema.nullish(),
});

const contentSchema = z.looseObject({
  size: z.number().nullish(),
  mimeType: z.string().nullish(),
  text: z.string().nullish(),
  encoding: z.string().nullish(),
});

const responseSchema = z.looseObject({
  status: z.coerce.number().int(),
  statusText: z.string().nullish(),
  httpVersion: z.string().nullish(),
  headers: z.array(nameValue).nullish(),
  cookies: z.array(nameValue).nullish(),
  content: contentSchema.nullish(),
  redirectURL: z.string().nullish(),
  bodySize: z.number().nullish(),
  _error: z.string().nullish(),
});

const entrySchema = z.looseObject({
  startedDateTime: z.string().nullish(),
  request: requestSchema,
  response: responseSchema,
});

const harSchema = z.looseObject({
  log: z.looseObject({
    version: z.string().nullish(),
    entries: z.array(entrySchema),
  }),
});

export type Har = z.infer<typeof harSchema>;
export type HarEntry = z.infer<typeof entrySchema>;

/** Statuses the default entry selection looks for. */
const DEFAULT_REFUSALS = new Set([401, 403, 419, 429]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Parses HAR text; InputError for bad JSON or JSON that is not a HAR. */
export function parseHar(text: string): Har {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (e) {
    const detail = e instanceof Error ? e.message.split("\n")[0] : "parse error";
    throw new InputError(`the HAR file is not valid JSON: ${detail}`);
  }
  const parsed = harSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") : "top level";
    const what = issue ? issue.message.split("\n")[0] : "unexpected shape";
    throw new InputError(`not a HAR file: ${where}: ${what}`);
  }
  return parsed.data;
}

/** One line per entry, indexed as `--entry` expects (0-based, file order). */
export function listHarEntries(
  har: Har,
): Array<{ index: number; method: string; url: string; status: number }> {
  return har.log.entries.map((e, index) => ({
    index,
    method: e.request.method,
    url: redactUrl(e.request.url),
    status: e.response.status,
  }));
}

/**
 * Picks the entry to diagnose. `entry` is a 0-based index in file order, the
 * same numbers `listHarEntries` shows. `match` picks the last refused entry whose
 * URL contains the text, else the last entry whose URL contains it. Without either: the last entry answered 401, 403, 419 or
 * 429; NotRefusedError when there is none.
 */
export function selectHarEntry(
  har: Har,
  opts: { entry?: number; match?: string },
): { index: number; exchange: Exchange } {
  const entries = har.log.entries;
  const count = entries.length;
  if (opts.entry !== undefined && opts.match !== undefined) {
    throw new InputError("give --entry or --match, not both");
  }
  if (count === 0) throw new InputError("the HAR file has no entries");
  let index: number;
  if (opts.entry !== undefined) {
    if (!Number.isInteger(opts.entry) || opts.entry < 0 || opts.entry >= count) {
      throw new InputError(
        `--entry ${opts.entry} does not exist; the HAR has ${count} entries (0 to ${count - 1})`,
      );
    }
    index = opts.entry;
  } else if (opts.match !== undefined) {
    const needle = opts.match;
    // Among the matches, the last refused one: "--match /checkout" means the failing call.
    const matches = (e: HarEntry) => e.request.url.includes(needle);
    index = findLastIndex(entries, (e) => matches(e) && DEFAULT_REFUSALS.has(e.response.status));
    if (index < 0) index = findLastIndex(entries, matches);
    if (index < 0) throw new InputError(`no entry's URL contains "${needle}" (the HAR has ${count} entries)`);
  } else {
    index = findLastIndex(entries, (e) => DEFAULT_REFUSALS.has(e.response.status));
    if (index < 0) {
      throw new NotRefusedError(
        `none of the ${count} entries in the HAR was refused with 401, 403, 419 or 429; pick one with --entry N or --match TEXT`,
      );
    }
  }
  const exchange = harEntryToExchange(entries[index]!);
  exchange.redirects = redirectChain(entries, index).map((i) => harEntryToExchange(entries[i]!));
  return { index, exchange };
}

function findLastIndex<T>(items: T[], pred: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return i;
  return -1;
}

function sameUrl(a: string, b: string): boolean {
  try {
    const ua = new URL(a);
    const ub = new URL(b);
    ua.hash = "";
    ub.hash = "";
    return ua.href === ub.href;
  } catch {
    return a === b;
  }
}

function redirectTarget(entry: HarEntry): string | null {
  const location =
    entry.response.headers?.find((h) => h.name.toLowerCase() === "location")?.value ||
    entry.response.redirectURL;
  if (!location) return null;
  try {
    return new URL(location, entry.request.url).href;
  } catch {
    return null;
  }
}

/** Indices of the redirects that led to entries[index], oldest first. */
function redirectChain(entries: HarEntry[], index: number): number[] {
  const chain: number[] = [];
  let current = index;
  for (;;) {
    const url = entries[current]!.request.url;
    let found = -1;
    for (let j = current - 1; j >= 0; j--) {
      const e = entries[j]!;
      if (!REDIRECTS.has(e.response.status)) continue;
      const target = redirectTarget(e);
      if (target !== null && sameUrl(target, url)) {
        found = j;
        break;
      }
    }
    if (found < 0) break;
    chain.unshift(found);
    current = found;
  }
  return chain;
}

function normaliseVersion(v: string | null | undefined): string {
  const s = (v ?? "").trim().toLowerCase();
  if (s === "" || s === "unknown") return "HTTP/1.1";
  if (s === "h2" || s === "http/2" || s === "http/2.0") return "HTTP/2";
  if (s === "h3" || s.startsWith("http/3")) return "HTTP/3";
  if (s === "http/1.0") return "HTTP/1.0";
  if (s === "http/1.1") return "HTTP/1.1";
  return v!.trim();
}

function toHeaders(list: Array<{ name: string; value?: string | null }> | null | undefined): Header[] {
  // HTTP/2 pseudo-headers (:authority, :path, :status) are not real headers.
  return (list ?? []).filter((h) => !h.name.startsWith(":")).map((h) => [h.name, h.value ?? ""]);
}

function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, "+");
}

function requestBody(postData: HarEntry["request"]["postData"], headers: Header[]): Buffer | null {
  if (!postData) return null;
  if (typeof postData.text === "string" && (postData.text !== "" || !postData.params?.length)) {
    return postData.encoding === "base64"
      ? Buffer.from(postData.text, "base64")
      : Buffer.from(postData.text, "utf8");
  }
  const params = postData.params ?? [];
  if (params.length === 0) return null;
  const mime = postData.mimeType ?? headerValue(headers, "content-type") ?? "";
  if (/multipart\/form-data/i.test(mime)) {
    const boundary = /boundary="?([^";]+)"?/i.exec(mime)?.[1] ?? "----why403HarBoundary";
    let out = "";
    for (const p of params) {
      out += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
      if (p.fileName) out += `; filename="${p.fileName}"`;
      out += "\r\n";
      if (p.contentType) out += `Content-Type: ${p.contentType}\r\n`;
      out += `\r\n${p.value ?? ""}\r\n`;
    }
    out += `--${boundary}--\r\n`;
    return Buffer.from(out, "utf8");
  }
  return Buffer.from(
    params.map((p) => `${formEncode(p.name)}=${formEncode(p.value ?? "")}`).join("&"),
    "utf8",
  );
}

function toRequest(entry: HarEntry): RequestModel {
  const r = entry.request;
  const headers = toHeaders(r.headers);
  // Some recorders keep cookies only in the cookies array.
  if (!hasHeader(headers, "cookie") && r.cookies && r.cookies.length > 0) {
    headers.push(["Cookie", r.cookies.map((c) => `${c.name}=${c.value ?? ""}`).join("; ")]);
  }
  return { method: r.method, url: r.url, headers, body: requestBody(r.postData, headers), options: {} };
}

function toResponse(entry: HarEntry): ResponseModel {
  const r = entry.response;
  const content = r.content;
  let body: Buffer = Buffer.alloc(0);
  let truncated = false;
  if (typeof content?.text === "string") {
    const raw =
      content.encoding === "base64"
        ? Buffer.from(content.text, "base64")
        : // Compressed bytes stored as text survive only as latin1 characters.
          Buffer.from(content.text, content.text.startsWith("\u001f\u008b") ? "latin1" : "utf8");
    // Recorders store decoded content; a body still starting with the gzip magic was stored as sent.
    const stillGzipped = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
    const decoded = stillGzipped
      ? decodeSavedBody([["Content-Encoding", "gzip"]], raw, false)
      : { body: raw, truncated: false };
    body = decoded.body;
    // size counts the decoded bytes; less text than that means the recorder cut it.
    truncated = decoded.truncated || (typeof content.size === "number" && content.size > body.length);
  } else if ((content?.size ?? 0) > 0 || (r.bodySize ?? 0) > 0 || r._error) {
    // The recording omitted a body the server did send.
    truncated = true;
  }
  return {
    status: r.status,
    statusText: r.statusText ?? "",
    httpVersion: normaliseVersion(r.httpVersion),
    headers: toHeaders(r.headers),
    body,
    bodyTruncated: truncated,
  };
}

/** One HAR entry as an Exchange (no redirects; selectHarEntry adds them). */
export function harEntryToExchange(entry: HarEntry): Exchange {
  const exchange: Exchange = { request: toRequest(entry), response: toResponse(entry), redirects: [] };
  if (entry.startedDateTime) {
    const d = new Date(entry.startedDateTime);
    if (!Number.isNaN(d.getTime())) exchange.startedAt = d;
  }
  return exchange;
}
