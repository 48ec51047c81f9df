// The shape of one product signature (signatures/<product>.json), checked with
// zod so a bad data file fails loudly in tests instead of matching nothing.
//
// Strictness rule: a product is only ever recognised by something it *says*
// (a header, a cookie, a page, a reason phrase). A status code is never a
// marker on its own: it may only narrow another marker (`status` on a marker,
// or a `status` marker that `requires` positive markers).

import { z } from "zod";
import { CAUSE_IDS, LAYERS } from "../model.js";

export const MARKER_ROLES = ["presence", "block-page", "challenge"] as const;
export type MarkerRole = (typeof MARKER_ROLES)[number];

const PRODUCT_ID = /^[a-z0-9][a-z0-9-]*$/;

/** A regular expression source that must compile (with the flags given). */
function regexSource(flagsAllowed = "i") {
  return z
    .string()
    .min(1)
    .refine(
      (source) => {
        try {
          new RegExp(source, flagsAllowed);
          return true;
        } catch {
          return false;
        }
      },
      { message: "not a valid regular expression" },
    );
}

const causeWeights = z.partialRecord(z.enum(CAUSE_IDS), z.number().min(-10).max(10));

const markerCommon = {
  /** Stable name used by `requires` and in match reports; defaults to "<kind>#<index>". */
  id: z.string().min(1).optional(),
  weight: z.number().min(0).max(10).default(2),
  role: z.enum(MARKER_ROLES).default("presence"),
  /** Evidence weights this marker lends to contract causes when it matches. */
  causes: causeWeights.optional(),
  /** What tells apart the causes this page leaves open (a log field, a config line); shown as next steps. */
  separate: z.array(z.string().min(1)).min(1).optional(),
  /** AND-condition: the marker only counts when the status is one of these. */
  status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  /** AND-condition: ids of other markers of this signature that must also match. */
  requires: z.array(z.string().min(1)).min(1).optional(),
  /** "i" for case-insensitive patterns. */
  flags: z.enum(["", "i"]).default(""),
  /** Where the fact comes from (doc page, source file); for maintainers. */
  source: z.string().optional(),
};

const headerMarker = z.object({
  kind: z.literal("header"),
  /** Header name, matched case-insensitively. */
  name: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "not a header name"),
  /** Optional pattern on the header value; without it, presence is enough. */
  pattern: regexSource().optional(),
  ...markerCommon,
});

const cookieMarker = z.object({
  kind: z.literal("cookie"),
  /** Pattern on the Set-Cookie cookie *name* (values are never looked at). */
  pattern: regexSource(),
  ...markerCommon,
});

const bodyMarker = z.object({
  kind: z.literal("body"),
  pattern: regexSource(),
  ...markerCommon,
});

const serverMarker = z.object({
  kind: z.literal("server"),
  /** Pattern on the Server header value. */
  pattern: regexSource(),
  ...markerCommon,
});

const reasonMarker = z.object({
  kind: z.literal("reason"),
  /** Pattern on the status line's reason phrase. */
  pattern: regexSource(),
  ...markerCommon,
});

const statusMarker = z.object({
  kind: z.literal("status"),
  codes: z.array(z.number().int().min(100).max(599)).min(1),
  ...markerCommon,
  // A status alone never identifies a product: it must lean on positive markers.
  requires: z.array(z.string().min(1)).min(1),
});

export const markerSchema = z.discriminatedUnion("kind", [
  headerMarker,
  cookieMarker,
  bodyMarker,
  serverMarker,
  reasonMarker,
  statusMarker,
]);
export type Marker = z.infer<typeof markerSchema>;

/** Where an operator-searchable id (Ray ID, support ID, request id) is read from. */
export const referenceSchema = z
  .object({
    label: z.string().min(1),
    /** Take the whole value of this header (or the first capture group of `pattern` on it). */
    header: z.string().min(1).optional(),
    /** Pattern on the body; the first capture group is the value. */
    body: regexSource().optional(),
    pattern: regexSource().optional(),
    flags: z.enum(["", "i"]).default(""),
  })
  .refine((r) => (r.header ? 1 : 0) + (r.body ? 1 : 0) === 1, {
    message: "a reference reads exactly one of header or body",
  })
  .refine((r) => !(r.body && r.pattern), { message: "pattern only applies to header references" });
export type ReferenceExtractor = z.infer<typeof referenceSchema>;

export const signatureSchema = z
  .object({
    product: z.string().regex(PRODUCT_ID, "product ids are lowercase words joined by -"),
    layer: z.enum(LAYERS).exclude(["unknown"]),
    name: z.string().min(1),
    /** How a sentence names the product ("Express", "the GitHub API"); defaults to `name`. */
    shortName: z.string().min(1).optional(),
    /** True when the product commonly passes other layers' answers through (CDN, proxy, gateway). */
    relay: z.boolean().default(false),
    markers: z.array(markerSchema).min(1),
    references: z.array(referenceSchema).default([]),
    /** Documentation the markers were taken from. */
    sources: z.array(z.string()).default([]),
    notes: z.string().optional(),
  })
  .superRefine((sig, ctx) => {
    const ids = sig.markers.map((m, i) => m.id ?? `${m.kind}#${i}`);
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) ctx.addIssue({ code: "custom", message: `duplicate marker id ${id}` });
      seen.add(id);
    }
    const positive = sig.markers.filter((m) => m.kind !== "status" && !m.requires);
    if (positive.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: "a signature needs at least one positive marker without conditions",
      });
    }
    sig.markers.forEach((m, i) => {
      for (const req of m.requires ?? []) {
        const target = sig.markers[ids.indexOf(req)];
        if (!target) {
          ctx.addIssue({ code: "custom", message: `marker ${ids[i]} requires unknown marker ${req}` });
        } else if (target.requires || target.kind === "status") {
          // One level only keeps evaluation a simple two-pass loop.
          ctx.addIssue({
            code: "custom",
            message: `marker ${ids[i]} requires ${req}, which is itself conditional`,
          });
        }
      }
      if (m.kind === "header" && /^(authorization|proxy-authorization|cookie|set-cookie)$/i.test(m.name)) {
        ctx.addIssue({ code: "custom", message: `header marker on secret-bearing header ${m.name}` });
      }
    });
  });

export type Signature = z.infer<typeof signatureSchema>;

/** Validates raw JSON; throws an Error naming the product file on failure. */
export function parseSignature(raw: unknown, origin = "signature"): Signature {
  const result = signatureSchema.safeParse(raw);
  if (!result.success) {
    const first = result.error.issues[0];
    const where = first?.path.length ? ` at ${first.path.join(".")}` : "";
    throw new Error(`${origin}: invalid signature${where}: ${first?.message ?? "unknown problem"}`);
  }
  return result.data;
}
