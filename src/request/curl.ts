// A curl command line → RequestModel. Our own parser (curlconverter pulls in
// tree-sitter wasm and slows start-up); it covers what browsers' "Copy as
// cURL" and people at a terminal write, and refuses by name any option whose
// effect it cannot reproduce, so a replay never silently differs from curl.
//
// curl's own default headers (User-Agent: curl/x.y, Accept: */*) are added when
// the line does not set or suppress them, so a replay looks like curl's request
// to a rule that keys on them; --compressed only sets options.compressed (the
// sender decides the Accept-Encoding it offers).

import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { InputError } from "../errors.js";
import type { Header, RequestModel, RequestOptions } from "../model.js";
import { quoteArgument, redactUrl } from "../redact.js";
import { CURL_LONG_OPTIONS } from "./curl-options.js";
import { readInputFile } from "./read-input.js";
import { splitCommandLine } from "./shell-words.js";

type DataKind = "ascii" | "raw" | "binary" | "urlencode" | "json";

interface FormPart {
  name: string;
  value: Buffer;
  filename?: string;
  type?: string;
}

interface ParseState {
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

type Handler = (st: ParseState, value: string, opt: string) => void;

/** curl's request kinds, named as curl names them when two collide. */
type HttpReq = "GET" | "HEAD" | "MIMEPOST" | "POST" | "PUT";
const HTTPREQ_NAMES: Record<HttpReq, string> = {
  GET: "GET (-G, --get)",
  HEAD: "HEAD (-I, --head)",
  MIMEPOST: "multipart formpost (-F, --form)",
  POST: "POST (-d, --data)",
  PUT: "PUT (-T, --upload-file)",
};

/** A line curl itself refuses, with curl's own words. */
function curlRefuses(reason: string): InputError {
  return new InputError(`curl refuses this line: ${reason}`);
}

/** curl's SetHTTPrequest: one request kind per line. */
function setHttpReq(st: ParseState, req: HttpReq): void {
  if (st.httpreq !== undefined && st.httpreq !== req) {
    throw curlRefuses(
      `You can only select one HTTP request method! You asked for both ${HTTPREQ_NAMES[req]} and ${HTTPREQ_NAMES[st.httpreq]}.`,
    );
  }
  st.httpreq = req;
}

interface OptionSpec {
  takesValue: boolean;
  handle: Handler;
}

const ignore: Handler = () => {};

function flag(handle: Handler = ignore): OptionSpec {
  return { takesValue: false, handle };
}
function withValue(handle: Handler = ignore): OptionSpec {
  return { takesValue: true, handle };
}

function unsupported(reason: string): OptionSpec {
  return {
    takesValue: false,
    handle: (_st, _v, opt) => {
      throw new InputError(`unsupported curl option ${opt} (${reason})`);
    },
  };
}

function addData(kind: DataKind): Handler {
  return (st, value) => {
    st.data.push({ kind, value: dataValue(kind, value) });
  };
}

function readFileArg(path: string, what: string): Buffer {
  if (path === "-") throw new InputError(`reading a ${what} from stdin (-) is not supported; name a file`);
  return readInputFile(path, what);
}

/**
 * A data file as curl reads it: one that is not there (or not readable)
 * makes an empty piece, as curl warns "Couldn't read data from file … this
 * makes an empty POST" and sends it anyway.
 */
function readDataFile(path: string): Buffer | null {
  if (path === "-")
    throw new InputError("curl data from stdin (@-) is not supported; put the data on the line");
  try {
    statSync(path);
  } catch {
    return null;
  }
  return readFileArg(path, "curl data file");
}

function dataValue(kind: DataKind, value: string): Buffer {
  if (kind === "raw") return Buffer.from(value, "utf8");
  if (kind === "urlencode") return Buffer.from(urlencodeData(value), "utf8");
  if (value.startsWith("@")) {
    const buf = readDataFile(value.slice(1));
    if (buf === null) return Buffer.alloc(0);
    // -d/--data strips line breaks from files; --data-binary and --json keep them.
    if (kind === "ascii") return Buffer.from(buf.toString("latin1").replace(/[\r\n]/g, ""), "latin1");
    return buf;
  }
  return Buffer.from(value, "utf8");
}

/** curl's escaping for --data-urlencode: everything but unreserved characters; a space is "+". */
function curlEscape(s: string | Buffer): string {
  const bytes = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (b === 0x20) out += "+";
    else out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** --data-urlencode and --url-query: `content`, `=content`, `name=content`, `@file`, `name@file`. */
function urlencodeData(value: string): string {
  const eq = value.indexOf("=");
  const at = value.indexOf("@");
  if (eq >= 0 && (at < 0 || eq < at)) {
    const name = value.slice(0, eq);
    const content = curlEscape(value.slice(eq + 1));
    return name === "" ? content : `${name}=${content}`;
  }
  if (at >= 0) {
    const name = value.slice(0, at);
    const file = readDataFile(value.slice(at + 1));
    if (file === null) return "";
    const content = curlEscape(file);
    return name === "" ? content : `${name}=${content}`;
  }
  return curlEscape(value);
}

function addHeader(st: ParseState, value: string): void {
  if (value.startsWith("@")) {
    throw new InputError("curl -H @file (headers from a file) is not supported; pass each header with -H");
  }
  const colon = value.indexOf(":");
  if (colon > 0) {
    const name = value.slice(0, colon).trim();
    const v = value.slice(colon + 1).trim();
    if (v === "") {
      // "Name:" tells curl not to send that header at all.
      st.suppressed.add(name.toLowerCase());
      return;
    }
    st.headers.push([name, v]);
    return;
  }
  if (/^[^;\s]+;\s*$/.test(value)) {
    // "Name;" sends the header with an empty value.
    st.headers.push([value.slice(0, value.indexOf(";")), ""]);
    return;
  }
  // Only the first word: a malformed header may still carry a secret.
  throw new InputError(`invalid curl header starting "${firstWord(value)}" (expected "Name: value")`);
}

function firstWord(s: string): string {
  return clip(/^[^\s:;=]*/.exec(s)?.[0] ?? "", 30);
}

function clip(s: string, max = 60): string {
  const one = s.replace(/[\r\n]+/g, " ");
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

function addForm(literal: boolean): Handler {
  return (st, value) => {
    setHttpReq(st, "MIMEPOST");
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new InputError(`invalid curl form field starting "${firstWord(value)}" (expected name=value)`);
    }
    const name = value.slice(0, eq);
    const content = value.slice(eq + 1);
    if (literal) {
      st.form.push({ name, value: Buffer.from(content, "utf8") });
      return;
    }
    if (content.startsWith("@") || content.startsWith("<")) {
      const [rawPath, ...mods] = content.slice(1).split(";");
      const path = unquote(rawPath ?? "");
      const part: FormPart = { name, value: readFileArg(path, "curl form file") };
      if (content.startsWith("@")) part.filename = basename(path);
      for (const mod of mods) {
        const m = /^\s*(type|filename)=(.*)$/.exec(mod);
        if (m?.[1] === "type") part.type = m[2]!.trim();
        else if (m?.[1] === "filename") part.filename = unquote(m[2]!.trim());
      }
      if (part.filename !== undefined && part.type === undefined) part.type = guessType(part.filename);
      st.form.push(part);
      return;
    }
    const typed = /^(.*);type=([\w.+-]+\/[\w.+-]+)$/s.exec(content);
    if (typed) st.form.push({ name, value: Buffer.from(typed[1]!, "utf8"), type: typed[2]! });
    else st.form.push({ name, value: Buffer.from(unquote(content), "utf8") });
  };
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, "$1") : s;
}

const TYPES_BY_EXTENSION: Record<string, string> = {
  txt: "text/plain",
  html: "text/html",
  htm: "text/html",
  json: "application/json",
  xml: "application/xml",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  svg: "image/svg+xml",
  csv: "text/csv",
};

function guessType(filename: string): string {
  const ext = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase();
  return (ext && TYPES_BY_EXTENSION[ext]) || "application/octet-stream";
}

function parseSeconds(value: string, opt: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || value.trim() === "") {
    throw new InputError(`curl option ${opt} needs a number of seconds, got ${quoteArgument(clip(value))}`);
  }
  return Math.round(n * 1000);
}

const OPTIONS: Record<string, OptionSpec> = {
  "--request": withValue((st, v) => {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v)) throw new InputError(`invalid HTTP method "${clip(v)}"`);
    st.method = v;
    st.options.explicitMethod = true;
  }),
  "--header": withValue((st, v) => addHeader(st, v)),
  "--data": withValue(addData("ascii")),
  "--data-ascii": withValue(addData("ascii")),
  "--data-raw": withValue(addData("raw")),
  "--data-binary": withValue(addData("binary")),
  "--data-urlencode": withValue(addData("urlencode")),
  "--json": withValue(addData("json")),
  "--form": withValue(addForm(false)),
  "--form-string": withValue(addForm(true)),
  // curl reads a value with "=" as cookies and any other as a cookie file.
  "--cookie": withValue((st, v) => {
    if (v.includes("=")) st.cookies.push(v.trim());
    else st.cookieFiles.push(v);
  }),
  "--url-query": withValue((st, v) => {
    // "+" first: appended as it is; otherwise encoded like --data-urlencode.
    st.urlQueries.push(v.startsWith("+") ? v.slice(1) : urlencodeData(v));
  }),
  "--range": withValue((st, v) => {
    // curl appends the dash a bare start offset lacks ("600" → "600-").
    st.range = /^\d+$/.test(v) ? `${v}-` : v;
  }),
  "--user": withValue((st, v) => {
    st.user = v;
  }),
  "--oauth2-bearer": withValue((st, v) => {
    st.bearer = v;
  }),
  "--basic": flag(),
  "--user-agent": withValue((st, v) => {
    st.userAgent = v;
  }),
  "--referer": withValue((st, v) => {
    st.referer = v.replace(/;auto$/, "");
  }),
  "--get": flag((st) => {
    st.get = true;
  }),
  "--head": flag((st) => {
    st.head = true;
    setHttpReq(st, "HEAD");
  }),
  "--upload-file": withValue((st, v) => {
    st.uploadFile = v;
  }),
  "--location": flag((st) => {
    st.options.followRedirects = true;
  }),
  "--location-trusted": flag((st) => {
    st.options.followRedirects = true;
  }),
  "--insecure": flag((st) => {
    st.options.insecure = true;
  }),
  "--proxy": withValue((st, v) => {
    st.options.proxy = v;
  }),
  "--compressed": flag((st) => {
    st.options.compressed = true;
  }),
  "--url": withValue((st, v) => {
    st.urls.push(v);
  }),
  "--max-time": withValue((st, v, opt) => {
    st.options.timeoutMs = parseSeconds(v, opt);
  }),
  // Accepted; they do not change what the server sees in a way we model.
  "--connect-timeout": withValue(),
  "--max-redirs": withValue(),
  "--retry": withValue(),
  "--retry-delay": withValue(),
  "--retry-max-time": withValue(),
  "--retry-connrefused": flag(),
  "--retry-all-errors": flag(),
  "--post301": flag(),
  "--post302": flag(),
  "--post303": flag(),
  "--http1.0": flag(),
  "--http1.1": flag(),
  "--http2": flag(),
  "--http2-prior-knowledge": flag(),
  "--http3": flag(),
  "--http3-only": flag(),
  "--tlsv1": flag(),
  "--tlsv1.0": flag(),
  "--tlsv1.1": flag(),
  "--tlsv1.2": flag(),
  "--tlsv1.3": flag(),
  "--tls-max": withValue(),
  "--ssl": flag(),
  "--ssl-reqd": flag(),
  "--ssl-no-revoke": flag(),
  "--ciphers": withValue(),
  "--ipv4": flag(),
  "--ipv6": flag(),
  "--path-as-is": flag(),
  "--globoff": flag(),
  "--raw": flag(),
  "--tr-encoding": flag(),
  "--no-keepalive": flag(),
  "--keepalive-time": withValue(),
  "--no-buffer": flag(),
  "--no-alpn": flag(),
  "--no-npn": flag(),
  "--no-sessionid": flag(),
  "--disable": flag(),
  "--junk-session-cookies": flag(),
  "--cookie-jar": withValue(),
  // Output only.
  "--silent": flag(),
  "--show-error": flag(),
  "--verbose": flag(),
  "--include": flag(),
  "--fail": flag(),
  "--fail-with-body": flag(),
  "--fail-early": flag(),
  "--progress-bar": flag(),
  "--no-progress-meter": flag(),
  "--output": withValue(),
  "--output-dir": withValue(),
  "--create-dirs": flag(),
  "--remote-name": flag(),
  "--remote-name-all": flag(),
  "--remote-header-name": flag(),
  "--remote-time": flag(),
  "--write-out": withValue(),
  "--dump-header": withValue(),
  "--stderr": withValue(),
  "--trace": withValue(),
  "--trace-ascii": withValue(),
  "--trace-time": flag(),
  "--styled-output": flag(),
  "--no-styled-output": flag(),
  "--styled": flag(),
  "--libcurl": withValue(),
  "--help": unsupported("help is not a request"),
  "--version": unsupported("version is not a request"),
  // Refused: the replay could not do what curl does.
  "--config": unsupported("options from a config file are not read; put them on the line"),
  "--next": unsupported("one request at a time"),
  "--parallel": flag(),
  "--netrc": unsupported("credentials from .netrc are not read; use -u or -H"),
  "--netrc-optional": unsupported("credentials from .netrc are not read; use -u or -H"),
  "--netrc-file": unsupported("credentials from .netrc are not read; use -u or -H"),
  "--digest": unsupported("digest authentication is not supported"),
  "--ntlm": unsupported("NTLM authentication is not supported"),
  "--negotiate": unsupported("Negotiate authentication is not supported"),
  "--anyauth": unsupported("authentication negotiation is not supported"),
  "--aws-sigv4": unsupported("AWS request signing is not supported"),
  "--cert": unsupported("client certificates are not supported"),
  "--key": unsupported("client certificates are not supported"),
  "--cacert": unsupported("custom CA files are not supported; use -k to skip verification"),
  "--capath": unsupported("custom CA files are not supported; use -k to skip verification"),
  "--resolve": unsupported("address overrides are not supported"),
  "--connect-to": unsupported("address overrides are not supported"),
  "--unix-socket": unsupported("unix sockets are not supported"),
  "--abstract-unix-socket": unsupported("unix sockets are not supported"),
  "--interface": unsupported("choosing the source interface is not supported"),
  "--local-port": unsupported("choosing the source port is not supported"),
  "--request-target": unsupported("custom request targets are not supported"),
  "--proxy-user": unsupported("proxy authentication is not supported"),
  "--socks5": unsupported("SOCKS proxies are not supported"),
  "--socks5-hostname": unsupported("SOCKS proxies are not supported"),
  "--continue-at": unsupported("resuming transfers is not supported"),
  "--time-cond": unsupported("conditional requests by file time are not supported"),
};

const SHORT: Record<string, string> = {
  X: "--request",
  H: "--header",
  d: "--data",
  F: "--form",
  b: "--cookie",
  u: "--user",
  A: "--user-agent",
  e: "--referer",
  G: "--get",
  I: "--head",
  L: "--location",
  k: "--insecure",
  x: "--proxy",
  m: "--max-time",
  T: "--upload-file",
  s: "--silent",
  S: "--show-error",
  v: "--verbose",
  i: "--include",
  f: "--fail",
  o: "--output",
  O: "--remote-name",
  J: "--remote-header-name",
  R: "--remote-time",
  w: "--write-out",
  D: "--dump-header",
  c: "--cookie-jar",
  j: "--junk-session-cookies",
  g: "--globoff",
  "#": "--progress-bar",
  N: "--no-buffer",
  "0": "--http1.0",
  "1": "--tlsv1",
  "4": "--ipv4",
  "6": "--ipv6",
  q: "--disable",
  Z: "--parallel",
  K: "--config",
  ":": "--next",
  n: "--netrc",
  E: "--cert",
  U: "--proxy-user",
  r: "--range",
  C: "--continue-at",
  z: "--time-cond",
  h: "--help",
  V: "--version",
};

function lookupLong(name: string): OptionSpec | undefined {
  return Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined;
}

interface ResolvedLong {
  /** The option as our table names it ("--silent", "--no-buffer"). */
  name: string;
  spec: OptionSpec;
  negated: boolean;
}

/**
 * curl's long-option lookup: an exact name, else a prefix only one name has
 * (`--sil` is --silent, `--s` is ambiguous); "--no-" before an exact boolean
 * name turns it off. Refusals carry curl's own message.
 */
function resolveLong(arg: string): ResolvedLong {
  const shown = clip(arg, 40);
  let word = arg.slice(2);
  const negated = word.startsWith("no-");
  if (negated) word = word.slice(3);
  const lower = word.toLowerCase();
  let hit = CURL_LONG_OPTIONS.find((o) => o.name === lower);
  if (!hit && !negated) {
    const hits = CURL_LONG_OPTIONS.filter((o) => o.name.startsWith(lower));
    if (hits.length > 1) throw curlRefuses(`option ${shown}: is ambiguous`);
    hit = hits[0];
  }
  if (!hit) throw curlRefuses(`option ${shown}: is unknown`);
  if (negated && hit.takesValue)
    throw curlRefuses(`option ${shown}: used '--no-' for option that isn't a boolean`);
  // curl lists some booleans by their negative name (--no-buffer is "buffer" turned off).
  const own = lookupLong(`--${hit.name}`);
  if (own && (!negated || !own.takesValue)) return { name: `--${hit.name}`, spec: own, negated };
  const negative = lookupLong(`--no-${hit.name}`);
  if (negative && !hit.takesValue) {
    // "--buffer" undoes "--no-buffer": neither changes what the server sees.
    return { name: `--no-${hit.name}`, spec: negated ? negative : flag(), negated: false };
  }
  throw new InputError(`unsupported curl option ${negated ? `--no-${hit.name}` : `--${hit.name}`}`);
}

/**
 * Parses curl's arguments (without the leading `curl`), as a shell hands them
 * over. Errors are InputErrors naming the option.
 */
export function parseCurlArgs(args: string[]): RequestModel {
  const st: ParseState = {
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

function negateFlag(st: ParseState, name: string): void {
  const o = st.options;
  if (name === "--location" || name === "--location-trusted") o.followRedirects = false;
  else if (name === "--insecure") o.insecure = false;
  else if (name === "--compressed") o.compressed = false;
  else if (name === "--get") st.get = false;
  else if (name === "--head") st.head = false;
}

function hasHeader(headers: Header[], name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([n]) => n.toLowerCase() === lower);
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

function buildBody(st: ParseState): Buffer | null {
  if (st.data.length === 0) return null;
  const parts: Buffer[] = [];
  st.data.forEach((d, idx) => {
    // curl joins -d pieces with '&'; --json pieces are concatenated as they are.
    if (idx > 0 && d.kind !== "json") parts.push(Buffer.from("&"));
    parts.push(d.value);
  });
  return Buffer.concat(parts);
}

function multipartBody(parts: FormPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  const quote = (s: string) => s.replace(/["\r\n\\]/g, (c) => (c === '"' ? "%22" : c === "\\" ? "\\\\" : ""));
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(p.name)}"`;
    if (p.filename !== undefined) head += `; filename="${quote(p.filename)}"`;
    head += "\r\n";
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, "utf8"), p.value, Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
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
  let url = normaliseUrl(st.urls[0]!);
  const headers = st.headers.filter(([n]) => !st.suppressed.has(n.toLowerCase()));
  const canAdd = (name: string) => !hasHeader(headers, name) && !st.suppressed.has(name.toLowerCase());

  let body: Buffer | null = null;
  let defaultMethod = "GET";
  if (req === "HEAD") defaultMethod = "HEAD";
  if (st.get && st.data.length > 0) {
    url = appendQuery(url, buildBody(st)?.toString("utf8") ?? "");
  } else if (st.urlQueries.length > 0) {
    // curl 7.88 drops --url-query when -G puts data in the query.
    url = appendQuery(url, st.urlQueries.join("&"));
  }
  if (req === "MIMEPOST") {
    const given = headers.find(([n]) => n.toLowerCase() === "content-type")?.[1];
    const givenBoundary = given && /boundary="?([^";]+)"?/i.exec(given)?.[1];
    const boundary = givenBoundary || `------------------------${randomBytes(12).toString("hex")}`;
    body = multipartBody(st.form, boundary);
    if (!givenBoundary) {
      const ct = `multipart/form-data; boundary=${boundary}`;
      const idx = headers.findIndex(([n]) => n.toLowerCase() === "content-type");
      if (idx >= 0) headers[idx] = [headers[idx]![0], ct];
      else if (canAdd("Content-Type")) headers.push(["Content-Type", ct]);
    }
    defaultMethod = "POST";
  } else if (req === "POST") {
    body = buildBody(st);
    defaultMethod = "POST";
    const json = st.data.some((d) => d.kind === "json");
    if (canAdd("Content-Type")) {
      headers.push(["Content-Type", json ? "application/json" : "application/x-www-form-urlencoded"]);
    }
    if (json && canAdd("Accept")) headers.push(["Accept", "application/json"]);
  } else if (req === "PUT" && st.uploadFile !== undefined) {
    if (st.uploadFile === "-" || st.uploadFile === ".") {
      throw new InputError("curl -T from stdin is not supported; name a file");
    }
    body = readFileArg(st.uploadFile, "curl upload file");
    if (url.endsWith("/")) url += encodeURIComponent(basename(st.uploadFile));
    defaultMethod = "PUT";
  }

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
  refuseLineBreaks(headers);

  const options = { ...st.options };
  if (st.head) options.headOnly = true;
  return { method: st.method ?? defaultMethod, url, headers, body, options };
}

/**
 * A raw CR or LF in a header value would make curl write two header lines
 * (the second one forged); no replay can send that, so the line is refused
 * here, naming the header but never its value (it may be a secret).
 */
function refuseLineBreaks(headers: Header[]): void {
  for (const [name, value] of headers) {
    if (/[\r\n\0]/.test(value)) {
      throw new InputError(
        `the ${clip(name, 40)} header has a raw line break in its value; curl would send it as two header lines. Remove the line break from that value`,
      );
    }
  }
}

/**
 * The cookies a cookie file holds for this URL, as curl reads it: Netscape
 * lines (domain, subdomains flag, path, secure, expiry, name, value; a
 * "#HttpOnly_" prefix kept as a cookie) or "Set-Cookie:" header lines. A file
 * that is not there is skipped, as curl skips it.
 */
function cookiesFromFile(path: string, url: string): string[] {
  try {
    if (!statSync(path).isFile()) return [];
  } catch {
    return [];
  }
  const text = readInputFile(path, "curl cookie file").toString("utf8");
  const target = new URL(url);
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  const now = Date.now() / 1000;
  const found: Array<{ cookie: string; path: string; domain: string; order: number }> = [];
  for (const raw of text.split(/\r?\n/)) {
    const c = parseCookieLine(raw);
    if (!c) continue;
    const domain = c.domain.replace(/^\./, "");
    const domainOk =
      domain === "" ||
      host === domain ||
      ((c.subdomains || c.domain.startsWith(".")) && host.endsWith(`.${domain}`));
    const pathOk = target.pathname.startsWith(c.path) || c.path === "/";
    const live = c.expires === 0 || c.expires > now;
    if (domainOk && pathOk && live && (!c.secure || target.protocol === "https:")) {
      found.push({ cookie: `${c.name}=${c.value}`, path: c.path, domain, order: found.length });
    }
  }
  // curl sends longer paths first, then longer domains, then newer cookies.
  found.sort(
    (a, b) => b.path.length - a.path.length || b.domain.length - a.domain.length || b.order - a.order,
  );
  return found.map((f) => f.cookie);
}

interface JarCookie {
  domain: string;
  subdomains: boolean;
  path: string;
  secure: boolean;
  expires: number;
  name: string;
  value: string;
}

function parseCookieLine(raw: string): JarCookie | null {
  let line = raw.trim();
  const setCookie = /^set-cookie:\s*/i.exec(line);
  if (setCookie) {
    const [pair = "", ...attrs] = line.slice(setCookie[0].length).split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) return null;
    const attr = (n: string) =>
      attrs
        .map((a) => a.trim())
        .find((a) => a.toLowerCase().startsWith(`${n}=`))
        ?.slice(n.length + 1);
    return {
      domain: attr("domain") ?? "",
      subdomains: true,
      path: attr("path") ?? "/",
      secure: attrs.some((a) => a.trim().toLowerCase() === "secure"),
      expires: 0,
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
    };
  }
  if (line.startsWith("#HttpOnly_")) line = line.slice("#HttpOnly_".length);
  else if (line.startsWith("#") || line === "") return null;
  const f = raw.replace(/^\s*#HttpOnly_/, "").split("\t");
  if (f.length < 7) return null;
  return {
    domain: (f[0] ?? "").trim().toLowerCase(),
    subdomains: f[1]?.toUpperCase() === "TRUE",
    path: f[2] || "/",
    secure: f[3]?.toUpperCase() === "TRUE",
    expires: Number(f[4]) || 0,
    name: f[5] ?? "",
    value: (f[6] ?? "").replace(/\r$/, ""),
  };
}

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

// ---- rendering ----

function isPrintable(s: string): boolean {
  return !/[\u0000-\u001f\u007f]/.test(s);
}

/** POSIX shell quoting: plain single quotes when possible, else $'…'. */
export function shellQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(s)) return s;
  if (isPrintable(s)) return `'${s.replace(/'/g, `'\\''`)}'`;
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "'") out += "\\'";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `$'${out}'`;
}

function bodyArgument(body: Buffer): string {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(body);
  if (Buffer.from(text, "utf8").equals(body)) return shellQuote(text);
  // Not UTF-8: every byte above 0x7f as \xHH.
  let out = "";
  for (const b of body) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x27) out += "\\'";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
    else out += String.fromCharCode(b);
  }
  return `$'${out}'`;
}

/**
 * Renders a request as a copy-pastable bash curl command, one option per
 * line. Callers redact secrets in headers before calling.
 */
export function formatCurl(req: RequestModel): string {
  const lines: string[] = [`curl ${shellQuote(req.url)}`];
  const method = req.method.toUpperCase();
  const hasBody = req.body !== null;
  if (method === "HEAD" && !hasBody && req.options.headOnly) lines.push("-I");
  else if (!((method === "GET" && !hasBody) || (method === "POST" && hasBody))) {
    lines.push(`-X ${shellQuote(req.method)}`);
  }
  for (const [name, value] of req.headers) {
    lines.push(value === "" ? `-H ${shellQuote(`${name};`)}` : `-H ${shellQuote(`${name}: ${value}`)}`);
  }
  if (req.body !== null) lines.push(`--data-raw ${bodyArgument(req.body)}`);
  const o = req.options;
  if (o.compressed) lines.push("--compressed");
  if (o.insecure) lines.push("-k");
  if (o.followRedirects) lines.push("-L");
  if (o.proxy) lines.push(`-x ${shellQuote(o.proxy)}`);
  if (o.timeoutMs !== undefined) lines.push(`--max-time ${o.timeoutMs / 1000}`);
  return lines.join(" \\\n  ");
}
