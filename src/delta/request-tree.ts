// A whole request as one fragment tree: groups for body, query, cookies and
// headers under a root, so one hierarchical search can find a trigger that
// spans locations (an anomaly score summed over body and a header).

import { headerValue } from "../headers.js";
import type { Header, RequestModel } from "../model.js";
import { formTree } from "./form.js";
import { type FormatTree, jsonTree } from "./json.js";
import { boundaryOf, multipartTree } from "./multipart.js";
import { textTree } from "./text.js";
import { type FragmentNode, isKept, leafText, NodeFactory, type Selection } from "./tree.js";

// Never dropped: framing, routing and our own id. Cookies have their own group;
// Content-Type is a node of its own that is replaced, not dropped (see below).
const ESSENTIAL_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "cookie",
  "x-request-id",
]);

export interface RequestTree {
  root: FragmentNode;
  /** The request with the selection applied. */
  render(sel: Selection): RequestModel;
  /** Which format the body was read as. */
  bodyFormat: "json" | "form" | "multipart" | "text" | "binary" | "none";
}

function looksTextual(body: Buffer): boolean {
  const sample = body.subarray(0, 4096);
  for (const byte of sample) if (byte === 0) return false;
  return Buffer.from(sample.toString("utf8"), "utf8").equals(sample) || body.length > 4096;
}

function bodyTree(
  req: RequestModel,
  factory: NodeFactory,
): { tree: FormatTree | null; format: RequestTree["bodyFormat"] } {
  if (!req.body || req.body.length === 0) return { tree: null, format: "none" };
  const ct = (headerValue(req.headers, "content-type") ?? "").toLowerCase();
  const text = req.body.toString("utf8");
  if (ct.includes("multipart/")) {
    const boundary = boundaryOf(headerValue(req.headers, "content-type") ?? "");
    const tree = boundary ? multipartTree(req.body, boundary, factory) : null;
    if (tree) return { tree, format: "multipart" };
  }
  if (ct.includes("json") || /^\s*[[{]/.test(text)) {
    const tree = jsonTree(text, factory);
    if (tree) return { tree, format: "json" };
  }
  if (ct.includes("x-www-form-urlencoded") || (!ct && /^[^\s=&]+=[^\r\n]*$/.test(text))) {
    return { tree: formTree(text, "body", factory), format: "form" };
  }
  if (looksTextual(req.body)) return { tree: textTree(text, factory), format: "text" };
  // Binary: present or absent as a whole.
  const node = factory.node("body", null);
  const raw = req.body;
  return { tree: { root: node, render: () => raw.toString("latin1") }, format: "binary" };
}

function cookiePairs(headers: Header[]): string[] {
  return headers
    .filter(([n]) => n.toLowerCase() === "cookie")
    .flatMap(([, v]) => v.split(";"))
    .map((c) => c.trim())
    .filter((c) => c !== "");
}

export function requestTree(req: RequestModel): RequestTree {
  const factory = new NodeFactory();
  const groups: FragmentNode[] = [];
  const { tree: body, format } = bodyTree(req, factory);
  if (body) groups.push(body.root);

  const url = new URL(req.url);
  const search = url.search.slice(1);
  const query = search !== "" ? formTree(search, "query", factory) : null;
  if (query) groups.push(query.root);

  const cookieList = cookiePairs(req.headers).map((pair) => {
    const eq = pair.indexOf("=");
    const name = eq >= 0 ? pair.slice(0, eq) : pair;
    const value = eq >= 0 ? pair.slice(eq + 1) : "";
    return { node: factory.node("cookie", name, value), name, value, pair };
  });
  const cookies =
    cookieList.length > 0
      ? factory.node(
          "cookie",
          null,
          undefined,
          cookieList.map((c) => c.node),
        )
      : null;
  if (cookies) groups.push(cookies);

  const neutralType = neutralContentType(format, headerValue(req.headers, "content-type"));
  const headerList = req.headers.map(([name, value]) => {
    const lower = name.toLowerCase();
    const fixed =
      ESSENTIAL_HEADERS.has(lower) ||
      (lower === "content-type" && (neutralType === undefined || sameType(neutralType, value)));
    return {
      name,
      value,
      // Without the node a removed Content-Type renders as the neutral type of its body.
      neutral: lower === "content-type" ? (neutralType ?? null) : null,
      node: fixed ? null : factory.node("header", name, value),
    };
  });
  const headerNodes = headerList.flatMap((h) => (h.node ? [h.node] : []));
  const headersGroup = headerNodes.length > 0 ? factory.node("header", null, undefined, headerNodes) : null;
  if (headersGroup) groups.push(headersGroup);

  const root = factory.node("body", null, undefined, groups);

  const render = (sel: Selection): RequestModel => {
    const out = new URL(req.url);
    if (query) out.search = isKept(query.root, sel) ? query.render(sel) : "";
    const headers: Header[] = [];
    let cookieDone = false;
    for (const h of headerList) {
      if (h.name.toLowerCase() === "cookie") {
        if (cookieDone || !cookies || !isKept(cookies, sel)) continue;
        cookieDone = true;
        const kept = cookieList.filter((c) => isKept(c.node, sel));
        if (kept.length === 0) continue;
        headers.push([
          h.name,
          kept
            .map((c) =>
              sel.overrides.has(c.node.id) ? `${c.name}=${leafText(c.node, sel, c.value)}` : c.pair,
            )
            .join("; "),
        ]);
        continue;
      }
      if (h.node) {
        if (!headersGroup || !isKept(headersGroup, sel) || !isKept(h.node, sel)) {
          if (h.neutral !== null) headers.push([h.name, h.neutral]);
          continue;
        }
        headers.push([h.name, leafText(h.node, sel, h.value)]);
        continue;
      }
      headers.push([h.name, h.value]);
    }
    let bodyOut: Buffer | null = req.body;
    if (body) {
      // A dropped body is sent empty, not absent: a POST without Content-Length is
      // refused by rules of its own (CRS 920180), which would pass for the trigger.
      bodyOut = isKept(body.root, sel)
        ? Buffer.from(body.render(sel), format === "multipart" || format === "binary" ? "latin1" : "utf8")
        : Buffer.alloc(0);
    }
    return { ...req, url: out.toString(), headers, body: bodyOut };
  };
  return { root, render, bodyFormat: format };
}

/**
 * What a Content-Type is replaced with when the search drops it: the plain type
 * of the body as read, so the body is still parsed the same way (a firewall that
 * refuses a charset, a boundary or an unlisted type then lets it pass).
 * null: drop the header (no body); undefined: never touch it (multipart needs its
 * boundary, a binary body has no neutral type).
 */
function neutralContentType(
  format: RequestTree["bodyFormat"],
  current: string | null,
): string | null | undefined {
  if (current === null) return undefined;
  switch (format) {
    case "none":
      return null;
    case "json":
      return "application/json";
    case "form":
      return "application/x-www-form-urlencoded";
    // Not text/plain: CRS 3.3's default policy does not allow it; the form type is
    // what every HTML form sends, and no filter refuses it for being a type.
    case "text":
      return /xml/i.test(current) ? "text/xml" : "application/x-www-form-urlencoded";
    default:
      return undefined;
  }
}

function sameType(a: string | null, b: string): boolean {
  return a !== null && a.toLowerCase() === b.trim().toLowerCase();
}
