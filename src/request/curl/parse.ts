// A curl command line → RequestModel: the shell words (bash or cmd quoting;
// PowerShell refused), the options read in order, then the request curl
// would send — method, URL with any query, body, and the headers curl adds.
//
// curl's own default headers (User-Agent: curl/x.y, Accept: */*) are added when
// the line does not set or suppress them, so a replay looks like curl's request
// to a rule that keys on them; --compressed only sets options.compressed (the
// sender decides the Accept-Encoding it offers).

import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { InputError } from "../../errors.js";
import type { Header, RequestModel } from "../../model.js";
import { redactUrl } from "../../redact.js";
import { splitCommandLine } from "../shell-words.js";
import { buildBody, multipartBody, readFileArg } from "./body.js";
import { cookiesFromFile } from "./cookie-file.js";
import { hasHeader, refuseLineBreaks } from "./headers.js";
import { lookupLong, negateFlag, resolveLong, SHORT } from "./options.js";
import { clip, type HttpReq, newParseState, type ParseState, setHttpReq } from "./state.js";

/** What curl sends when no User-Agent is given (any current curl says curl/<version>). */
export const CURL_USER_AGENT = "curl/8.5.0";

const POWERSHELL = /^(invoke-webrequest|invoke-restmethod|iwr|irm|\$session)\b/i;

/**
 * Parses a whole curl command as copied from a browser or a terminal: bash
 * quoting (with $'…' and backslash continuations) or Windows cmd quoting
 * (^-escapes, ^ continuations), detected automatically.
 */
export function parseCurlCommandLine(text: string): RequestModel {
  const trimmed = text.trim().replace(/^\$\s+/, "");
  if (trimmed === "") throw new InputError("the curl command is empty");
  if (POWERSHELL.test(trimmed)) {
    throw new InputError(
      "PowerShell commands are not supported; use the browser's Copy as cURL (bash) or (cmd)",
    );
  }
  const words = splitCommandLine(trimmed);
  const first = words[0];
  if (first === undefined) throw new InputError("the curl command is empty");
  if (!/(^|[\\/])curl(\.exe)?$/i.test(first)) {
    throw new InputError(`not a curl command (it starts with "${clip(first, 40)}")`);
  }
  return parseCurlArgs(words.slice(1));
}

/**
 * Parses curl's arguments (without the leading `curl`), as a shell hands them
 * over. Errors are InputErrors naming the option.
 */
export function parseCurlArgs(args: string[]): RequestModel {
  const st = newParseState();
  let i = 0;
  let onlyUrls = false;
  const takeValue = (opt: string): string => {
    const v = args[i + 1];
    if (v === undefined) throw new InputError(`curl option ${opt} needs a value`);
    i++;
    return v;
  };
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (onlyUrls || !arg.startsWith("-") || arg === "-") {
      st.urls.push(arg);
      continue;
    }
    if (arg === "--") {
      onlyUrls = true;
      continue;
    }
    if (arg.startsWith("--")) {
      // curl has no --name=value form: "--data=x" is an unknown option to it.
      const { name, spec, negated } = resolveLong(arg);
      if (spec.takesValue) spec.handle(st, takeValue(name), name);
      else if (negated) negateFlag(st, name);
      else spec.handle(st, "", name);
      continue;
    }
    // Short options, possibly combined: -sSL, -XPOST, -H'x: y'.
    for (let k = 1; k < arg.length; k++) {
      const letter = arg[k]!;
      const long = Object.hasOwn(SHORT, letter) ? SHORT[letter] : undefined;
      const spec = long ? lookupLong(long) : undefined;
      if (!long || !spec) throw new InputError(`unsupported curl option -${clip(letter, 4)}`);
      if (spec.takesValue) {
        const rest = arg.slice(k + 1);
        spec.handle(st, rest !== "" ? rest : takeValue(`-${letter}`), `-${letter}`);
        break;
      }
      spec.handle(st, "", `-${letter}`);
    }
  }
  return buildRequest(st);
}

function normaliseUrl(raw: string): string {
  const url = raw.trim();
  if (url === "") throw new InputError("the curl command has an empty URL");
  if (/[\s]/.test(url)) throw new InputError(`invalid URL "${clip(redactUrl(url))}" (contains whitespace)`);
  // curl assumes http:// when no scheme is given.
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new InputError(`invalid URL "${clip(redactUrl(url))}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InputError(`unsupported URL scheme ${parsed.protocol} (only http and https)`);
  }
  return withScheme;
}

/**
 * The request kind curl settles on once the whole line is read: -F and -I
 * were set while reading; data then asks for POST (GET, or HEAD with -I, when
 * -G moves it to the query) and -T for PUT, each refused when it collides.
 */
function settleHttpReq(st: ParseState): HttpReq | undefined {
  if (st.data.length > 0) setHttpReq(st, st.get ? (st.head ? "HEAD" : "GET") : "POST");
  if (st.uploadFile !== undefined) setHttpReq(st, "PUT");
  return st.httpreq;
}

/** Appends query text as curl's URL API does: after any query, before no fragment, escapes in lower case. */
function appendQuery(url: string, query: string): string {
  if (query === "") return url;
  const hashAt = url.indexOf("#");
  const base = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const lowered = query.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  return base + (base.includes("?") ? "&" : "?") + lowered;
}

function buildRequest(st: ParseState): RequestModel {
  if (st.urls.length === 0) throw new InputError("the curl command has no URL");
  if (st.urls.length > 1) {
    throw new InputError(`the curl command has ${st.urls.length} URLs; diagnose one request at a time`);
  }
  const req = settleHttpReq(st);
  const headers = st.headers.filter(([n]) => !st.suppressed.has(n.toLowerCase()));
  const canAdd = (name: string) => !hasHeader(headers, name) && !st.suppressed.has(name.toLowerCase());
  const built = requestBody(st, req, withQuery(st, normaliseUrl(st.urls[0]!)), headers, canAdd);
  addImpliedHeaders(st, headers, canAdd, built.url);
  refuseLineBreaks(headers);

  const options = { ...st.options };
  if (st.head) options.headOnly = true;
  return { method: st.method ?? built.defaultMethod, url: built.url, headers, body: built.body, options };
}

/** The URL with what -G moves into the query, else the --url-query pieces. */
function withQuery(st: ParseState, url: string): string {
  if (st.get && st.data.length > 0) return appendQuery(url, buildBody(st)?.toString("utf8") ?? "");
  // curl 7.88 drops --url-query when -G puts data in the query.
  if (st.urlQueries.length > 0) return appendQuery(url, st.urlQueries.join("&"));
  return url;
}

type CanAdd = (name: string) => boolean;

/**
 * The body for the request kind, the method it implies, and the URL (-T to a
 * URL ending in "/" appends the file's name). Adds the Content-Type (and
 * Accept for --json) curl adds with the body.
 */
function requestBody(
  st: ParseState,
  req: HttpReq | undefined,
  url: string,
  headers: Header[],
  canAdd: CanAdd,
): { body: Buffer | null; defaultMethod: string; url: string } {
  if (req === "MIMEPOST")
    return { body: multipartRequestBody(st, headers, canAdd), defaultMethod: "POST", url };
  if (req === "POST") {
    const body = buildBody(st);
    const json = st.data.some((d) => d.kind === "json");
    if (canAdd("Content-Type")) {
      headers.push(["Content-Type", json ? "application/json" : "application/x-www-form-urlencoded"]);
    }
    if (json && canAdd("Accept")) headers.push(["Accept", "application/json"]);
    return { body, defaultMethod: "POST", url };
  }
  if (req === "PUT" && st.uploadFile !== undefined) {
    if (st.uploadFile === "-" || st.uploadFile === ".") {
      throw new InputError("curl -T from stdin is not supported; name a file");
    }
    const body = readFileArg(st.uploadFile, "curl upload file");
    const target = url.endsWith("/") ? url + encodeURIComponent(basename(st.uploadFile)) : url;
    return { body, defaultMethod: "PUT", url: target };
  }
  return { body: null, defaultMethod: req === "HEAD" ? "HEAD" : "GET", url };
}

/** A -F form as multipart, with the boundary a given Content-Type names or a fresh one curl-style. */
function multipartRequestBody(st: ParseState, headers: Header[], canAdd: CanAdd): Buffer {
  const given = headers.find(([n]) => n.toLowerCase() === "content-type")?.[1];
  const givenBoundary = given && /boundary="?([^";]+)"?/i.exec(given)?.[1];
  const boundary = givenBoundary || `------------------------${randomBytes(12).toString("hex")}`;
  const body = multipartBody(st.form, boundary);
  if (!givenBoundary) {
    const ct = `multipart/form-data; boundary=${boundary}`;
    const idx = headers.findIndex(([n]) => n.toLowerCase() === "content-type");
    if (idx >= 0) headers[idx] = [headers[idx]![0], ct];
    else if (canAdd("Content-Type")) headers.push(["Content-Type", ct]);
  }
  return body;
}

/** The headers options imply (-r, -u, --oauth2-bearer, -A, -e, -b) and curl's defaults, in curl's order. */
function addImpliedHeaders(st: ParseState, headers: Header[], canAdd: CanAdd, url: string): void {
  if (st.range !== undefined && canAdd("Range")) headers.push(["Range", `bytes=${st.range}`]);
  if (st.user !== undefined && canAdd("Authorization")) {
    if (!st.user.includes(":")) {
      throw new InputError("curl -u without a password would prompt for one; pass -u 'user:password'");
    }
    headers.push(["Authorization", `Basic ${Buffer.from(st.user, "utf8").toString("base64")}`]);
  } else if (st.bearer !== undefined && canAdd("Authorization")) {
    headers.push(["Authorization", `Bearer ${st.bearer}`]);
  }
  if (st.userAgent !== undefined && canAdd("User-Agent")) headers.push(["User-Agent", st.userAgent]);
  if (canAdd("User-Agent")) headers.push(["User-Agent", CURL_USER_AGENT]);
  if (canAdd("Accept")) headers.push(["Accept", "*/*"]);
  if (st.referer && canAdd("Referer")) headers.push(["Referer", st.referer]);
  const cookies = [...st.cookieFiles.flatMap((f) => cookiesFromFile(f, url)), ...st.cookies];
  if (cookies.length > 0 && !st.suppressed.has("cookie")) {
    // curl sends -b cookies in a Cookie header of its own, after the -H ones: the file's first.
    headers.push(["Cookie", cookies.join("; ")]);
  }
}
