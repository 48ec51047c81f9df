// What the parser collects while it reads one curl line, and the small
// helpers every part of it shares (curl's own refusals, clipped quotes).

import { InputError } from "../../errors.js";
import type { Header, RequestOptions } from "../../model.js";

export type DataKind = "ascii" | "raw" | "binary" | "urlencode" | "json";

export interface FormPart {
  name: string;
  value: Buffer;
  filename?: string;
  type?: string;
}

export interface ParseState {
  method?: string;
  urls: string[];
  headers: Header[];
  /** Header names given as "Name:" (curl: do not send this header). */
  suppressed: Set<string>;
  data: Array<{ kind: DataKind; value: Buffer }>;
  form: FormPart[];
  cookies: string[];
  /** -b arguments without "=": cookie files (curl skips one it cannot open). */
  cookieFiles: string[];
  /** --url-query pieces, already encoded. */
  urlQueries: string[];
  range?: string;
  /** The request kind -F and -I set while the line is read (curl's SetHTTPrequest). */
  httpreq?: HttpReq;
  user?: string;
  bearer?: string;
  userAgent?: string;
  referer?: string;
  get: boolean;
  head: boolean;
  uploadFile?: string;
  options: RequestOptions;
}

/** Nothing read yet. */
export function newParseState(): ParseState {
  return {
    urls: [],
    headers: [],
    suppressed: new Set(),
    data: [],
    form: [],
    cookies: [],
    cookieFiles: [],
    urlQueries: [],
    get: false,
    head: false,
    options: {},
  };
}

/** What an option does to the state with its value ("" for a flag); `opt` is the spelling used, for errors. */
export type Handler = (st: ParseState, value: string, opt: string) => void;

/** curl's request kinds, named as curl names them when two collide. */
export type HttpReq = "GET" | "HEAD" | "MIMEPOST" | "POST" | "PUT";

const HTTPREQ_NAMES: Record<HttpReq, string> = {
  GET: "GET (-G, --get)",
  HEAD: "HEAD (-I, --head)",
  MIMEPOST: "multipart formpost (-F, --form)",
  POST: "POST (-d, --data)",
  PUT: "PUT (-T, --upload-file)",
};

/** A line curl itself refuses, with curl's own words. */
export function curlRefuses(reason: string): InputError {
  return new InputError(`curl refuses this line: ${reason}`);
}

/** curl's SetHTTPrequest: one request kind per line. */
export function setHttpReq(st: ParseState, req: HttpReq): void {
  if (st.httpreq !== undefined && st.httpreq !== req) {
    throw curlRefuses(
      `You can only select one HTTP request method! You asked for both ${HTTPREQ_NAMES[req]} and ${HTTPREQ_NAMES[st.httpreq]}.`,
    );
  }
  st.httpreq = req;
}

/** The first word of a malformed value, clipped: enough to name it, too little to leak a secret. */
export function firstWord(s: string): string {
  return clip(/^[^\s:;=]*/.exec(s)?.[0] ?? "", 30);
}

/** One line, at most `max` characters, for quoting input in an error. */
export function clip(s: string, max = 60): string {
  const one = s.replace(/[\r\n]+/g, " ");
  return one.length > max ? `${one.slice(0, max)}…` : one;
}
