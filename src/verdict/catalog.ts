// The cause catalogue and fix templates (data/*.json), checked with zod when loaded.
import { z } from "zod";
import causesJson from "../../data/causes.json" with { type: "json" };
import fixesJson from "../../data/fixes.json" with { type: "json" };
import { CAUSE_IDS, type CauseId } from "../model.js";

/** Placeholders fix and summary templates may use; filled from evidence data, trigger and target. */
export const PLACEHOLDERS = [
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

export const causeEntrySchema = z.object({
  title: z.string().min(1),
  description: z.string().min(1),
  check: z.array(z.string().min(1)).min(1),
  act: z.array(templateText).min(1),
});
export const causesSchema = z
  .record(z.enum(CAUSE_IDS), causeEntrySchema)
  .refine((c) => CAUSE_IDS.every((id) => id in c), { message: "every cause id needs an entry" });

export const fixStepSchema = z.union([
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
export const fixEntrySchema = z.object({
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

/** Fills `{name}` placeholders; a missing value is shown as `<name>`. */
export function fillTemplate(template: string, values: Partial<Record<Placeholder, string>>): string {
  const known = new Set<string>(PLACEHOLDERS);
  return template.replace(PLACEHOLDER_RE, (all, name: string) => {
    if (!known.has(name)) return all;
    return values[name as Placeholder] ?? `<${name}>`;
  });
}
