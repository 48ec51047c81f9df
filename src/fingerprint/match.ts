// Recognises which product produced a refusal, from the response alone, using
// the data in signatures/. A product is named only on positive markers; when
// several products are on the path, the one whose page it is becomes the
// responder and the others that pass traffic through become relays.

import { headerValue } from "../headers.js";
import { MAX_FINGERPRINT_BODY_CHARS } from "../limits.js";
import type { CauseId, Evidence, Layer, RequestModel, Responder, ResponseModel } from "../model.js";
import { redactHeaderValue, redactText } from "../redact.js";
import { loadCatalogue } from "./catalogue.js";
import type { Marker, MarkerRole, ReferenceExtractor, Signature } from "./signature-schema.js";

export interface ProductMatch {
  product: string;
  layer: Layer;
  /** Sum of the weights of the markers that matched. */
  score: number;
  /** Distinct roles of the matched markers: presence, block-page, challenge. */
  roles: string[];
  /** Ids of the matched markers. */
  markers: string[];
}

export interface FingerprintResult {
  responder: Responder;
  matches: ProductMatch[];
  /** One item per matched marker that speaks for causes, plus one naming the responder. */
  evidence: Evidence[];
  /** Some product's own refusal page was recognised. */
  blockPage: boolean;
  /** A bot wall / challenge was recognised. */
  challenge: boolean;
}

/** A product whose markers add up to less than this is too weakly seen to be named. */
const MIN_PRODUCT_SCORE = 2;
/** Longest header value or body excerpt quoted in evidence. */
const MAX_QUOTE_CHARS = 100;

/** Closer to the origin ranks higher: the most specific presence wins when no page is recognised. */
const ORIGIN_RANK: Record<Layer, number> = {
  application: 6,
  "web-server": 5,
  gateway: 4,
  proxy: 3,
  waf: 2,
  cdn: 1,
  unknown: 0,
};
/** Relays are listed client side first. */
const CLIENT_SIDE_ORDER: Record<Layer, number> = {
  cdn: 0,
  waf: 1,
  proxy: 2,
  gateway: 3,
  "web-server": 4,
  application: 5,
  unknown: 6,
};

interface CompiledMarker {
  id: string;
  marker: Marker;
  regex: RegExp | null;
  /** Lowercase header name for header markers. */
  headerName: string | null;
}

interface CompiledReference {
  ref: ReferenceExtractor;
  regex: RegExp | null;
}

interface CompiledSignature {
  sig: Signature;
  unconditional: CompiledMarker[];
  conditional: CompiledMarker[];
  references: CompiledReference[];
}

const compiledCache = new WeakMap<Signature, CompiledSignature>();

function compile(sig: Signature): CompiledSignature {
  const cached = compiledCache.get(sig);
  if (cached) return cached;
  const markers = sig.markers.map((marker, i): CompiledMarker => {
    const source = "pattern" in marker ? marker.pattern : undefined;
    return {
      id: marker.id ?? `${marker.kind}#${i}`,
      marker,
      regex: source ? new RegExp(source, marker.flags) : null,
      headerName: marker.kind === "header" ? marker.name.toLowerCase() : null,
    };
  });
  const compiled: CompiledSignature = {
    sig,
    unconditional: markers.filter((m) => !m.marker.requires),
    conditional: markers.filter((m) => m.marker.requires),
    references: sig.references.map((ref) => {
      const source = ref.body ?? ref.pattern;
      return { ref, regex: source ? new RegExp(source, ref.flags) : null };
    }),
  };
  compiledCache.set(sig, compiled);
  return compiled;
}

/** What the markers look at, computed once per response. */
interface ResponseView {
  status: number;
  reason: string;
  headers: Map<string, string[]>;
  cookieNames: string[];
  body: () => string;
}

function viewOf(response: ResponseModel): ResponseView {
  const headers = new Map<string, string[]>();
  for (const [name, value] of response.headers) {
    const key = String(name).toLowerCase();
    const list = headers.get(key);
    if (list) list.push(String(value));
    else headers.set(key, [String(value)]);
  }
  const cookieNames: string[] = [];
  for (const line of headers.get("set-cookie") ?? []) {
    // HAR exports sometimes fold several Set-Cookie lines into one with newlines.
    for (const one of line.split("\n")) {
      const name = one.split(";", 1)[0]?.split("=", 1)[0]?.trim();
      if (name) cookieNames.push(name);
    }
  }
  let bodyText: string | undefined;
  return {
    status: response.status,
    reason: response.statusText ?? "",
    headers,
    cookieNames,
    body: () => {
      if (bodyText === undefined) {
        // Bytes >= chars for UTF-8, so cutting bytes first bounds the text too.
        const bytes = response.body ? response.body.subarray(0, MAX_FINGERPRINT_BODY_CHARS) : Buffer.alloc(0);
        bodyText = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
      }
      return bodyText;
    },
  };
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_QUOTE_CHARS ? `${flat.slice(0, MAX_QUOTE_CHARS - 1)}…` : flat;
}

/** Returns a readable description of the hit, or null when the marker does not match. */
function test(m: CompiledMarker, view: ResponseView): string | null {
  const marker = m.marker;
  if (marker.status && !marker.status.includes(view.status)) return null;
  switch (marker.kind) {
    case "header": {
      for (const value of view.headers.get(m.headerName ?? "") ?? []) {
        if (!m.regex || m.regex.test(value)) {
          return `header ${m.headerName}: ${quote(redactHeaderValue(m.headerName ?? "", value))}`;
        }
      }
      return null;
    }
    case "server": {
      for (const value of view.headers.get("server") ?? []) {
        if (m.regex?.test(value)) return `header server: ${quote(redactText(value))}`;
      }
      return null;
    }
    case "cookie": {
      // Only the cookie's name is ever looked at or quoted, never its value.
      const name = view.cookieNames.find((n) => m.regex?.test(n));
      return name ? `cookie ${name}` : null;
    }
    case "body": {
      const hit = m.regex?.exec(view.body());
      return hit ? `body: ${quote(redactText(hit[0]))}` : null;
    }
    case "reason":
      return m.regex?.test(view.reason) ? `reason: ${quote(redactText(view.reason))}` : null;
    case "status":
      return marker.codes.includes(view.status) ? `status ${view.status}` : null;
  }
}

interface Hit {
  id: string;
  marker: Marker;
  description: string;
}

interface ProductHits {
  sig: Signature;
  compiled: CompiledSignature;
  hits: Hit[];
  score: number;
  /** Heaviest single block-page/challenge marker: who made the page. */
  strongestPage: number;
  pageScore: number;
}

function evaluate(compiled: CompiledSignature, view: ResponseView): ProductHits | null {
  const hits: Hit[] = [];
  const matched = new Set<string>();
  for (const m of compiled.unconditional) {
    const description = test(m, view);
    if (description) {
      hits.push({ id: m.id, marker: m.marker, description });
      matched.add(m.id);
    }
  }
  if (hits.length === 0) return null;
  for (const m of compiled.conditional) {
    if (!(m.marker.requires ?? []).every((id) => matched.has(id))) continue;
    const description = test(m, view);
    if (description) hits.push({ id: m.id, marker: m.marker, description });
  }
  let score = 0;
  let pageScore = 0;
  let strongestPage = 0;
  for (const h of hits) {
    score += h.marker.weight;
    if (h.marker.role !== "presence") {
      pageScore += h.marker.weight;
      strongestPage = Math.max(strongestPage, h.marker.weight);
    }
  }
  if (score < MIN_PRODUCT_SCORE && strongestPage === 0) return null;
  return { sig: compiled.sig, compiled, hits, score, strongestPage, pageScore };
}

function decodeEntities(text: string): string {
  return text.replace(/&#(x[0-9a-f]+|\d+);/gi, (whole, code: string) => {
    const n = code[0] === "x" || code[0] === "X" ? Number.parseInt(code.slice(1), 16) : Number(code);
    return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : whole;
  });
}

function extractReferences(p: ProductHits, view: ResponseView): Array<{ label: string; value: string }> {
  const out: Array<{ label: string; value: string }> = [];
  for (const { ref, regex } of p.compiled.references) {
    let value: string | undefined;
    if (ref.header) {
      const raw = view.headers.get(ref.header.toLowerCase())?.[0];
      if (raw !== undefined) value = regex ? regex.exec(raw)?.[1] : raw;
    } else if (regex) {
      value = regex.exec(view.body())?.[1];
    }
    if (value) {
      const clean = redactText(decodeEntities(value).trim().slice(0, 200));
      if (clean) out.push({ label: ref.label, value: clean });
    }
  }
  return out;
}

function toMatch(p: ProductHits): ProductMatch {
  return {
    product: p.sig.product,
    layer: p.sig.layer,
    score: p.score,
    roles: [...new Set(p.hits.map((h) => h.marker.role as MarkerRole))],
    markers: p.hits.map((h) => h.id),
  };
}

function pickResponder(found: ProductHits[]): ProductHits | undefined {
  const pages = found.filter((p) => p.strongestPage > 0);
  if (pages.length > 0) {
    return [...pages].sort(
      (a, b) =>
        b.strongestPage - a.strongestPage ||
        b.pageScore - a.pageScore ||
        b.score - a.score ||
        ORIGIN_RANK[b.sig.layer] - ORIGIN_RANK[a.sig.layer],
    )[0];
  }
  return [...found].sort(
    (a, b) => ORIGIN_RANK[b.sig.layer] - ORIGIN_RANK[a.sig.layer] || b.score - a.score,
  )[0];
}

/** Markers a hop stamps on the responses it writes itself, as opposed to its page's text. */
const STAMPS = new Set<Marker["kind"]>(["header", "server", "cookie"]);
/** Edge layers: their own pages are written last, so they carry their own stamps. */
const EDGE_LAYERS = new Set<Layer>(["cdn", "waf"]);

/**
 * A page styled like an edge product's (a CDN's access-denied page, a bot challenge) in
 * a response that carries another product's Server header and none of the edge's own
 * headers or cookies was not written by the edge: an edge that writes its own page
 * stamps it (and replaces the Server header). Such a product's page hits are dropped
 * from `found` (the product too when nothing else of it matched); one fact per product
 * says so. A page seen without any headers (a body pasted alone) is not touched.
 */
function dropImitatedPages(found: ProductHits[]): Evidence[] {
  const server = found.find((p) => p.hits.some((h) => h.marker.kind === "server"));
  const out: Evidence[] = [];
  for (const p of [...found]) {
    if (!server || p === server || !p.sig.relay || !EDGE_LAYERS.has(p.sig.layer)) continue;
    if (p.strongestPage === 0 || p.hits.some((h) => STAMPS.has(h.marker.kind))) continue;
    if (!p.sig.markers.some((m) => STAMPS.has(m.kind))) continue;
    found.splice(found.indexOf(p), 1);
    out.push({
      source: "response",
      fact: `The page looks like ${p.sig.name}'s, but the response carries ${server.sig.name}'s Server header and none of ${p.sig.name}'s own headers: ${p.sig.name} did not write it (a page styled like it).`,
      weights: {},
      data: { imitated: p.sig.product, by: server.sig.product },
    });
  }
  return out;
}

/** Fingerprint against an explicit list of signatures (tests, extensions). */
export function fingerprintWith(
  signatures: readonly Signature[],
  response: ResponseModel,
  _request?: RequestModel,
): FingerprintResult {
  const view = viewOf(response);
  const found: ProductHits[] = [];
  for (const sig of signatures) {
    const result = evaluate(compile(sig), view);
    if (result) found.push(result);
  }
  found.sort((a, b) => b.score - a.score || a.sig.product.localeCompare(b.sig.product));

  const evidence: Evidence[] = [];
  for (const imitated of dropImitatedPages(found)) evidence.push(imitated);
  for (const p of found) {
    for (const h of p.hits) {
      if (!h.marker.causes || Object.keys(h.marker.causes).length === 0) continue;
      evidence.push({
        source: "response",
        fact: `${p.sig.name} ${h.marker.role === "presence" ? "marker" : "page"} seen (${h.description})`,
        weights: { ...(h.marker.causes as Partial<Record<CauseId, number>>) },
        data: {
          product: p.sig.product,
          layer: p.sig.layer,
          marker: h.id,
          role: h.marker.role,
          ...(h.marker.separate ? { separate: h.marker.separate } : {}),
        },
      });
    }
  }

  const chosen = pickResponder(found);
  const blockPage = found.some((p) => p.hits.some((h) => h.marker.role === "block-page"));
  const challenge = found.some((p) => p.hits.some((h) => h.marker.role === "challenge"));
  if (!chosen) {
    return {
      responder: { layer: "unknown", product: null, evidence: [] },
      matches: [],
      evidence,
      blockPage,
      challenge,
    };
  }

  // Pass-through: a relay seen only by its presence markers (Via, its own ids) that
  // carries a JSON/XML answer did not write it: the application behind it did.
  const contentType = (headerValue(response.headers, "content-type") ?? "").toLowerCase();
  const appBody = /json|xml/.test(contentType);
  if (chosen.strongestPage === 0 && chosen.sig.relay && appBody && response.body.length > 0) {
    const passRelays = found
      .filter((p) => p.sig.relay)
      .sort((a, b) => CLIENT_SIDE_ORDER[a.sig.layer] - CLIENT_SIDE_ORDER[b.sig.layer] || b.score - a.score);
    const responder: Responder = {
      layer: "application",
      product: null,
      evidence: [`not ${chosen.sig.name}'s own page: it passed the origin's answer through`],
      relays: passRelays.map((p) => ({
        layer: p.sig.layer,
        product: p.sig.product,
        evidence: p.hits.map((h) => h.description),
      })),
    };
    const references = passRelays.flatMap((p) => extractReferences(p, view));
    if (references.length > 0) responder.references = references;
    return { responder, matches: found.map(toMatch), evidence, blockPage, challenge };
  }

  const relays = found
    .filter((p) => p !== chosen && p.sig.relay)
    .sort((a, b) => CLIENT_SIDE_ORDER[a.sig.layer] - CLIENT_SIDE_ORDER[b.sig.layer] || b.score - a.score);

  const references: Array<{ label: string; value: string }> = [];
  const seenRefs = new Set<string>();
  for (const p of [chosen, ...relays]) {
    for (const r of extractReferences(p, view)) {
      const key = `${r.label}\u0000${r.value}`;
      if (!seenRefs.has(key)) {
        seenRefs.add(key);
        references.push(r);
      }
    }
  }

  const responder: Responder = {
    layer: chosen.sig.layer,
    product: chosen.sig.product,
    evidence: chosen.hits.map((h) => h.description),
  };
  if (references.length > 0) responder.references = references;
  if (relays.length > 0) {
    responder.relays = relays.map((p) => ({
      layer: p.sig.layer,
      product: p.sig.product,
      evidence: p.hits.map((h) => h.description),
    }));
  }

  const madeThePage = chosen.strongestPage > 0;
  evidence.unshift({
    source: "response",
    fact: madeThePage
      ? `The refusal page was produced by ${chosen.sig.name} (${chosen.sig.layer})`
      : `${chosen.sig.name} (${chosen.sig.layer}) is on the path; no product's own refusal page was recognised`,
    // A firewall's own refusal page speaks for a firewall rule unless a marker said more.
    weights:
      madeThePage &&
      chosen.sig.layer === "waf" &&
      !challenge &&
      !evidence.some((e) => Object.keys(e.weights).length)
        ? { waf: 3 }
        : {},
    data: {
      product: chosen.sig.product,
      layer: chosen.sig.layer,
      blockPage: madeThePage,
      relays: relays.map((p) => p.sig.product),
    },
  });

  return { responder, matches: found.map(toMatch), evidence, blockPage, challenge };
}

/** Which product answered, and which relayed, judged from the response alone. */
export function fingerprint(response: ResponseModel, request?: RequestModel): FingerprintResult {
  return fingerprintWith(loadCatalogue(), response, request);
}
