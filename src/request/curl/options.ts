// The option table: every curl option we reproduce, accept as harmless, or
// refuse by name, its short letter, and curl's long-option lookup (unique
// prefixes, "--no-" for booleans).

import { InputError } from "../../errors.js";
import { quoteArgument } from "../../redact.js";
import { addData, addForm, urlencodeData } from "./body.js";
import { addHeader } from "./headers.js";
import { CURL_LONG_OPTIONS } from "./long-options.js";
import { clip, curlRefuses, type Handler, type ParseState, setHttpReq } from "./state.js";

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

export const SHORT: Record<string, string> = {
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

export function lookupLong(name: string): OptionSpec | undefined {
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
export function resolveLong(arg: string): ResolvedLong {
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

export function negateFlag(st: ParseState, name: string): void {
  const o = st.options;
  if (name === "--location" || name === "--location-trusted") o.followRedirects = false;
  else if (name === "--insecure") o.insecure = false;
  else if (name === "--compressed") o.compressed = false;
  else if (name === "--get") st.get = false;
  else if (name === "--head") st.head = false;
}
