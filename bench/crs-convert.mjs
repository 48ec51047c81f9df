// OWASP CRS regression tests (ftw YAML, read at run time from ../shared) turned
// into why403 request models. Nothing from the YAML is copied into the project:
// the files are read where they lie and skipped with a message when absent.
//
// ftw defaults: method GET, uri "/", a `data` list is joined with CRLF; a body
// without a Content-Type gets the form type, as `curl -d` would send it. Stages
// that are deliberately not well-formed HTTP (raw_request, encoded_request,
// stop_magic with a wrong Content-Length) cannot be sent by an HTTP client and
// are left out, counted.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

/** Where the shared copy of the CRS tests lives, relative to the checkout. */
export function crsTestsDir(root = process.cwd()) {
  const candidates = [
    process.env.WHY403_CRS_TESTS,
    resolve(root, "../shared/realworld/crs-tests"),
    resolve(root, "../../shared/realworld/crs-tests"),
    "/work/shared/realworld/crs-tests",
  ].filter(Boolean);
  return candidates.find((d) => existsSync(d)) ?? null;
}

/** Every test of every REQUEST-9xx directory: { family, file, title, stage, skip? }. */
export function loadCrsTests(dir) {
  const out = [];
  for (const sub of readdirSync(dir).sort()) {
    const m = /^REQUEST-(\d{3})-/.exec(sub);
    if (!m) continue;
    for (const file of readdirSync(join(dir, sub)).sort()) {
      if (!file.endsWith(".yaml")) continue;
      let doc;
      try {
        doc = parse(readFileSync(join(dir, sub, file), "utf8"));
      } catch (err) {
        out.push({ family: m[1], file, title: file, skip: `YAML error: ${err.message.split("\n")[0]}` });
        continue;
      }
      for (const t of doc?.tests ?? []) {
        for (const s of t.stages ?? []) {
          const stage = s.stage ?? s;
          out.push({ family: m[1], file, title: String(t.test_title ?? file), stage });
        }
      }
    }
  }
  return out;
}

/** The rule ids the test expects in the log, or null when it expects none. */
export function expectedIds(stage) {
  const c = stage?.output?.log_contains;
  if (typeof c !== "string") return null;
  const ids = [...c.matchAll(/(\d{6})/g)].map((x) => x[1]);
  return ids.length ? ids : null;
}

/**
 * A request model for base URL `base` (e.g. http://127.0.0.1:8081), or { skip }.
 * The Host header is kept as the test wrote it; the URL is what an HTTP client
 * builds from the uri (the WHATWG parser: what why403 itself would send).
 */
export function toRequest(stage, base) {
  const input = stage?.input;
  if (!input) return { skip: "no input" };
  if (input.raw_request || input.encoded_request)
    return { skip: "raw or encoded request (not well-formed HTTP)" };
  if (input.stop_magic) return { skip: "stop_magic (deliberately wrong framing)" };
  const method = String(input.method ?? "GET");
  if (!/^[A-Za-z!#$%&'*+.^_`|~-]+$/.test(method)) return { skip: "method is not an HTTP token" };
  const uri = String(input.uri ?? "/");
  if (!uri.startsWith("/")) return { skip: "absolute-form or odd request target" };
  let url;
  try {
    url = new URL(uri, base).href;
  } catch {
    return { skip: "uri a URL parser refuses" };
  }
  const headers = [];
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (/^content-length$/i.test(name)) continue; // computed by the client
    headers.push([name, String(value)]);
  }
  let body = null;
  if (input.data !== undefined && input.data !== null) {
    const text = Array.isArray(input.data) ? input.data.map(String).join("\r\n") : String(input.data);
    body = Buffer.from(text, "latin1");
    // As the curl line (`-d`) sends it: a body without a Content-Type goes as a form.
    if (!headers.some(([n]) => /^content-type$/i.test(n)))
      headers.push(["Content-Type", "application/x-www-form-urlencoded"]);
  }
  return {
    req: { method, url, headers, body, options: { explicitMethod: true } },
  };
}

// ---- request parts: the units the bench ablates to find the part CRS blocks on ----

const NEUTRAL_HEADERS = new Set(["host", "content-length", "connection", "proxy-connection", "keep-alive"]);

/** The parts of a request a WAF inspects, each with a way to neutralise it. */
export function requestParts(req) {
  const parts = [];
  const u = new URL(req.url);
  const method = req.method.toUpperCase();
  if (method !== "GET" && method !== "POST")
    parts.push({
      location: "method",
      name: null,
      text: req.method,
      ablate: (r) => ({ ...r, method: r.body ? "POST" : "GET" }),
    });
  if (u.pathname !== "/")
    parts.push({
      location: "path",
      name: null,
      text: u.pathname,
      ablate: (r) =>
        withUrl(r, (x) => {
          x.pathname = "/";
        }),
    });
  const pairs = u.search
    .slice(1)
    .split("&")
    .filter((p) => p !== "");
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf("=");
    parts.push({
      location: "query",
      name: safeDecode(eq >= 0 ? pair.slice(0, eq) : pair),
      text: pair,
      ablate: (r) =>
        withUrl(r, (x) => {
          const ps = x.search
            .slice(1)
            .split("&")
            .filter((p) => p !== "");
          x.search = ps.filter((_, j) => j !== i).join("&");
        }),
    });
  });
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (NEUTRAL_HEADERS.has(lower)) continue;
    if (lower === "cookie") {
      for (const c of value
        .split(";")
        .map((s) => s.trim())
        .filter(Boolean)) {
        const eq = c.indexOf("=");
        parts.push({
          location: "cookie",
          name: eq >= 0 ? c.slice(0, eq) : c,
          text: c,
          ablate: (r) => ({
            ...r,
            headers: r.headers
              .map(([n, v]) =>
                n.toLowerCase() === "cookie"
                  ? [
                      n,
                      v
                        .split(";")
                        .map((s) => s.trim())
                        .filter((s) => s && s !== c)
                        .join("; "),
                    ]
                  : [n, v],
              )
              .filter(([n, v]) => n.toLowerCase() !== "cookie" || v !== ""),
          }),
        });
      }
      continue;
    }
    if (lower === "content-type" && req.body && /^application\/x-www-form-urlencoded$/i.test(value.trim()))
      continue;
    parts.push({
      location: "header",
      name,
      text: value,
      ablate: (r) =>
        lower === "content-type" && r.body
          ? {
              ...r,
              headers: r.headers.map(([n, v]) =>
                n.toLowerCase() === lower ? [n, "application/x-www-form-urlencoded"] : [n, v],
              ),
            }
          : { ...r, headers: r.headers.filter(([n]) => n.toLowerCase() !== lower) },
    });
  }
  if (req.body && req.body.length > 0)
    parts.push({
      location: "body",
      name: null,
      text: req.body.toString("latin1"),
      ablate: (r) => ({ ...r, body: null }),
    });
  return parts;
}

function withUrl(r, edit) {
  const x = new URL(r.url);
  edit(x);
  return { ...r, url: x.href };
}

export function safeDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}
