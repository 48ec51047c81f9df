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
import { basename } from "node:path";
import { InputError } from "../errors.js";
import type { Header, RequestModel, RequestOptions } from "../model.js";
import { quoteArgument, redactUrl } from "../redact.js";
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

function dataValue(kind: DataKind, value: string): Buffer {
  if (kind === "raw") return Buffer.from(value, "utf8");
  if (kind === "urlencode") return Buffer.from(urlencodeData(value), "utf8");
  if (value.startsWith("@")) {
    const path = value.slice(1);
    if (path === "-")
      throw new InputError("curl data from stdin (@-) is not supported; put the data on the line");
    const buf = readFileArg(path, "curl data file");
    // -d/--data strips line breaks from files; --data-binary and --json keep them.
    if (kind === "ascii") return Buffer.from(buf.toString("latin1").replace(/[\r\n]/g, ""), "latin1");
    return buf;
  }
  return Buffer.from(value, "utf8");
}

/** curl's escaping for --data-urlencode: everything but unreserved characters. */
function curlEscape(s: string | Buffer): string {
  const bytes = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  let out = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

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
    const content = curlEscape(readFileArg(value.slice(at + 1), "curl data file"));
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
  "--cookie": withValue((st, v) => {
    if (!v.includes("=")) {
      throw new InputError(
        `curl -b ${clip(v)} names a cookie jar file, which is not supported; pass the cookies as -b 'name=value; name2=value2'`,
      );
    }
    st.cookies.push(v.trim());
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
  "--range": unsupported("ranges are not supported; pass -H 'Range: bytes=…'"),
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
      const eq = arg.indexOf("=");
      let name = eq > 0 ? arg.slice(0, eq) : arg;
      let spec = lookupLong(name);
      let negated = false;
      if (!spec && name.startsWith("--no-")) {
        const positive = `--${name.slice(5)}`;
        const p = lookupLong(positive);
        if (p && !p.takesValue) {
          spec = p;
          negated = true;
          name = positive;
        }
      }
      if (!spec) throw new InputError(`unsupported curl option ${clip(name, 40)}`);
      if (spec.takesValue) {
        const value = eq > 0 ? arg.slice(eq + 1) : takeValue(name);
        spec.handle(st, value, name);
      } else {
        if (eq > 0) throw new InputError(`curl option ${name} takes no value`);
        if (negated) negateFlag(st, name);
        else spec.handle(st, "", name);
      }
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

function buildRequest(st: ParseState): RequestModel {
  if (st.urls.length === 0) throw new InputError("the curl command has no URL");
  if (st.urls.length > 1) {
    throw new InputError(`the curl command has ${st.urls.length} URLs; diagnose one request at a time`);
  }
  let url = normaliseUrl(st.urls[0]!);
  const headers = st.headers.filter(([n]) => !st.suppressed.has(n.toLowerCase()));
  const canAdd = (name: string) => !hasHeader(headers, name) && !st.suppressed.has(name.toLowerCase());

  if (st.data.length > 0 && st.form.length > 0) {
    throw new InputError("curl -d/--data and -F/--form cannot be used together");
  }
  if (st.head && !st.get && (st.data.length > 0 || st.form.length > 0)) {
    throw new InputError("curl -I/--head cannot be combined with -d/--data or -F/--form");
  }

  let body: Buffer | null = null;
  let defaultMethod = st.head ? "HEAD" : "GET";
  if (st.get) {
    const query = buildBody(st);
    if (query !== null && query.length > 0) {
      const hashAt = url.indexOf("#");
      if (hashAt >= 0) url = url.slice(0, hashAt);
      url += (url.includes("?") ? "&" : "?") + query.toString("utf8");
    }
  } else if (st.form.length > 0) {
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
  } else if (st.data.length > 0) {
    body = buildBody(st);
    defaultMethod = "POST";
    const json = st.data.some((d) => d.kind === "json");
    if (canAdd("Content-Type")) {
      headers.push(["Content-Type", json ? "application/json" : "application/x-www-form-urlencoded"]);
    }
    if (json && canAdd("Accept")) headers.push(["Accept", "application/json"]);
  } else if (st.uploadFile !== undefined) {
    if (st.uploadFile === "-" || st.uploadFile === ".") {
      throw new InputError("curl -T from stdin is not supported; name a file");
    }
    body = readFileArg(st.uploadFile, "curl upload file");
    if (url.endsWith("/")) url += encodeURIComponent(basename(st.uploadFile));
    defaultMethod = "PUT";
  }

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
  if (st.cookies.length > 0 && !st.suppressed.has("cookie")) {
    // curl sends -b cookies in a Cookie header of its own, after the -H ones.
    headers.push(["Cookie", st.cookies.join("; ")]);
  }

  const options = { ...st.options };
  if (st.head) options.headOnly = true;
  return { method: st.method ?? defaultMethod, url, headers, body, options };
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
