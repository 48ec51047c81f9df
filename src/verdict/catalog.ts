// The cause catalogue and fix templates (data/*.json), checked with zod when loaded.
import { z } from "zod";
import causesJson from "../../data/causes.json" with { type: "json" };
import fixesJson from "../../data/fixes.json" with { type: "json" };
import { CAUSE_IDS, type CauseId } from "../model.js";

/** Placeholders fix and summary templates may use; filled from evidence data, trigger and target. */
const PLACEHOLDERS = [
  "path",
  "url",
  "host",
  "method",
  "location",
  "origin",
  "resetAt",
  "scope",
  "client",
  "field",
  "ruleId",
  "ruleIds",
  "modsecTarget",
  "triggerDescription",
  "fsPath",
  "rayId",
  "message",
  "allow",
  "exp",
  "clockSkewSeconds",
  "scheme",
  "credentialSent",
  "aud",
  "referer",
  "unsafeMethod",
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER_RE = /\{([a-zA-Z][a-zA-Z0-9]*)\}/g;

/** Placeholder names used in a template that are in PLACEHOLDERS. */
export function placeholdersIn(template: string): Placeholder[] {
  const known = new Set<string>(PLACEHOLDERS);
  return [...template.matchAll(PLACEHOLDER_RE)]
    .map((m) => m[1]!)
    .filter((n): n is Placeholder => known.has(n));
}

const templateText = z
  .string()
  .min(1)
  .refine(
    (s) => [...s.matchAll(PLACEHOLDER_RE)].every((m) => (PLACEHOLDERS as readonly string[]).includes(m[1]!)),
    {
      message: "uses an unknown {placeholder}",
    },
  );

const causeEntrySchema = z.object({
  title: z.string().min(1),
  description: z.string().min(1),
  check: z.array(z.string().min(1)).min(1),
  act: z.array(templateText).min(1),
});
export const causesSchema = z
  .record(z.enum(CAUSE_IDS), causeEntrySchema)
  .refine((c) => CAUSE_IDS.every((id) => id in c), { message: "every cause id needs an entry" });

const fixStepSchema = z.union([
  templateText,
  z
    .object({
      /** Only when this placeholder has a value. */
      when: z.enum(PLACEHOLDERS).optional(),
      /** Only when this placeholder has no value (the step that finds it out). */
      unless: z.enum(PLACEHOLDERS).optional(),
      text: templateText,
    })
    .refine((s) => s.when || s.unless, { message: "a step object needs when or unless" }),
]);
const fixEntrySchema = z.object({
  products: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), z.array(fixStepSchema).min(1)),
  generic: z.array(fixStepSchema).min(1),
});
export const fixesSchema = z
  .record(z.enum(CAUSE_IDS), fixEntrySchema)
  .refine((f) => CAUSE_IDS.every((id) => id in f), { message: "every cause id needs fix templates" });

export type CauseEntry = z.infer<typeof causeEntrySchema>;
export type FixStep = z.infer<typeof fixStepSchema>;
export type FixEntry = z.infer<typeof fixEntrySchema>;

export const CAUSES = causesSchema.parse(causesJson) as Record<CauseId, CauseEntry>;
export const FIXES = fixesSchema.parse(fixesJson) as Record<CauseId, FixEntry>;

/**
 * What to write in place of a value the run does not know, and where the user finds it.
 * A snippet keeps its shape (`allow CLIENT_ADDRESS;`) and ends with a note naming the source.
 */
const FILL_INS: Record<Placeholder, { token: string; where: string }> = {
  path: { token: "PATH", where: "the request's path" },
  url: { token: "URL", where: "the request's URL" },
  host: { token: "HOST", where: "the Host the request was sent to" },
  method: { token: "METHOD", where: "the request's method" },
  location: { token: "LOCATION", where: "the redirect's Location header" },
  origin: { token: "ORIGIN", where: "the page's origin (scheme://host:port) that sends the request" },
  resetAt: { token: "RESET_TIME", where: "the rate-limit reset header of the answer" },
  scope: { token: "SCOPE", where: "the scope or role the endpoint requires (its API documentation)" },
  client: {
    token: "CLIENT_ADDRESS",
    where: "the address the server sees for you: the client field of its access log for this request",
  },
  field: { token: "FIELD", where: "the form or header field the check reads" },
  ruleId: {
    token: "RULE_ID",
    where: "the id of the rule that matched, in the firewall's log for this request",
  },
  ruleIds: {
    token: "RULE_IDS",
    where: "the ids of the rules that matched, in the firewall's log for this request",
  },
  modsecTarget: {
    token: "TARGET",
    where: "the variable the rule matched (ARGS:name, REQUEST_HEADERS:name), in the audit log",
  },
  triggerDescription: {
    token: "THE_MATCHED_PART",
    where:
      "the part of the request the rule matched: the firewall's log names it, or rerun live to search for it",
  },
  fsPath: { token: "FILE_PATH", where: "the file the server maps the URL to (its error log names it)" },
  rayId: { token: "RAY_ID", where: "the reference id printed on the block page" },
  message: { token: "MESSAGE", where: "the server's error message" },
  allow: { token: "ALLOWED_METHODS", where: "the Allow header of the answer" },
  exp: { token: "EXPIRY", where: "the token's exp claim" },
  clockSkewSeconds: {
    token: "SKEW_SECONDS",
    where: "the difference between your clock and the server's Date header",
  },
  scheme: { token: "SCHEME", where: "the WWW-Authenticate header of the answer" },
  credentialSent: { token: "CREDENTIAL", where: "the credential the request carries" },
  aud: { token: "AUDIENCE", where: "the audience the API expects (its documentation)" },
  referer: { token: "REFERER", where: "the Referer the request sends" },
  unsafeMethod: { token: "METHOD", where: "the request's method" },
};

/**
 * Fills `{name}` placeholders. A value the run does not know becomes an upper-case token,
 * and the text ends with what to put there and where to find it: no `<name>` reaches a user.
 */
export function fillTemplate(template: string, values: Partial<Record<Placeholder, string>>): string {
  const known = new Set<string>(PLACEHOLDERS);
  const missing = new Set<Placeholder>();
  const text = template.replace(PLACEHOLDER_RE, (all, name: string) => {
    if (!known.has(name)) return all;
    const value = values[name as Placeholder];
    if (value !== undefined) return value;
    missing.add(name as Placeholder);
    return FILL_INS[name as Placeholder].token;
  });
  if (missing.size === 0) return text;
  const notes = [...missing].map((n) => `${FILL_INS[n].token}: ${FILL_INS[n].where}`);
  return `${text}\n  (fill in ${notes.join("; ")})`;
}
