// Small readers over the shared Exchange model, used by every module here.

import { headerValue as firstValue, headerValues } from "../../headers.js";
import { MAX_FINGERPRINT_BODY_CHARS } from "../../limits.js";
import type { Exchange, Header, RequestModel, ResponseModel } from "../../model.js";

export { headerValues };

/** The first value of a header; undefined when absent (this folder's convention). */
export function headerValue(headers: Header[], name: string): string | undefined {
  return firstValue(headers, name) ?? undefined;
}

export function bodyText(msg: RequestModel | ResponseModel): string {
  if (!msg.body || msg.body.length === 0) return "";
  return msg.body.subarray(0, MAX_FINGERPRINT_BODY_CHARS).toString("utf8");
}

/** Visible text of an HTML page (tags, scripts and styles dropped, entities for the usual five). */
export function visibleText(body: string): string {
  if (!/<[a-z!/]/i.test(body)) return body;
  return body
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/[ \t]+/g, " ")
    .replace(/\s*\n\s*/g, "\n")
    .trim();
}

export function contentType(msg: RequestModel | ResponseModel): string {
  return (headerValue(msg.headers, "content-type") ?? "").toLowerCase();
}

/** Cookies sent with the request, in order. */
export function requestCookies(req: RequestModel): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of headerValues(req.headers, "cookie")) {
    for (const part of line.split(";")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      out.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  return out;
}

export function parseHttpDate(value: string | undefined): Date | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

export interface ReferenceTime {
  at: Date;
  /** What the time comes from, for facts. */
  basis: "the response's Date header" | "the recording time" | "the local clock";
}

/** The server's idea of "now": its Date header, else when the exchange happened, else now. */
export function serverTime(ex: Exchange, now: Date = new Date()): ReferenceTime {
  const date = parseHttpDate(headerValue(ex.response.headers, "date"));
  if (date) return { at: date, basis: "the response's Date header" };
  if (ex.startedAt) return { at: ex.startedAt, basis: "the recording time" };
  return { at: now, basis: "the local clock" };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

export function isStateChanging(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Cuts a text for quoting in a fact. */
export function clip(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.origin === "null" ? null : u.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** Form fields (urlencoded or multipart) and top-level JSON member names of a request body. */
export function bodyFieldNames(req: RequestModel): Set<string> {
  const names = new Set<string>();
  const text = bodyText(req);
  if (!text) return names;
  const ct = contentType(req);
  if (ct.includes("json") || /^\s*[{[]/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
        for (const k of Object.keys(parsed)) names.add(k);
      }
    } catch {
      for (const m of text.matchAll(/"([^"\\]{1,100})"\s*:/g)) names.add(m[1]!);
    }
    return names;
  }
  if (ct.includes("multipart/")) {
    for (const m of text.matchAll(/Content-Disposition:[^\r\n]*\bname="([^"]*)"/gi)) names.add(m[1]!);
    return names;
  }
  for (const pair of text.split("&")) {
    const name = pair.split("=")[0] ?? "";
    try {
      names.add(decodeURIComponent(name.replace(/\+/g, " ")));
    } catch {
      names.add(name);
    }
  }
  return names;
}

/** Value of one form field or JSON member (first occurrence), for comparing tokens; never printed. */
export function bodyFieldValue(req: RequestModel, field: string): string | undefined {
  const text = bodyText(req);
  if (!text) return undefined;
  const ct = contentType(req);
  if (ct.includes("json") || /^\s*[{[]/.test(text)) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const v = parsed?.[field];
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  }
  if (ct.includes("multipart/")) return undefined;
  for (const pair of text.split("&")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    try {
      if (decodeURIComponent(pair.slice(0, eq).replace(/\+/g, " ")) === field) {
        return decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, " "));
      }
    } catch {
      // a malformed escape: not a value we can compare
    }
  }
  return undefined;
}
