// The contract's JSON shapes as zod schemas: tests validate every --json output
// against them, so a drift from ../shared/spec/contract.md fails the build.
import { z } from "zod";
import { CAUSE_IDS, LAYERS, TRIGGER_LOCATIONS } from "../model.js";

const cause = z.enum(CAUSE_IDS);
const layer = z.enum(LAYERS);

const relay = z.object({ layer, product: z.string().nullable(), evidence: z.array(z.string()) });

export const reportSchema = z.object({
  schema: z.literal("why403.report/v1"),
  target: z.object({ method: z.string(), url: z.string() }),
  baseline: z.object({
    status: z.number().int().nullable(),
    responder: z.object({
      layer,
      product: z
        .string()
        .regex(/^[a-z0-9-]+$/)
        .nullable(),
      evidence: z.array(z.string()),
      references: z.array(z.object({ label: z.string(), value: z.string() })).optional(),
      relays: z.array(relay).optional(),
    }),
    failure: z
      .object({
        kind: z.enum([
          "reset",
          "timeout",
          "tls",
          "malformed",
          "too-large",
          "refused-connection",
          "dns",
          "other",
        ]),
        message: z.string().min(1),
      })
      .nullable()
      .optional(),
  }),
  verdict: z
    .object({
      cause,
      confidence: z.number().min(0).max(1),
      summary: z.string().min(1),
      evidence: z.array(z.string()),
      fix: z.array(z.string()),
    })
    .nullable(),
  candidates: z.array(z.object({ cause, confidence: z.number().min(0).max(1) })),
  trigger: z
    .object({
      location: z.enum(TRIGGER_LOCATIONS),
      name: z.string().nullable(),
      minimal: z.string(),
      parts: z
        .array(
          z.object({ location: z.enum(TRIGGER_LOCATIONS), name: z.string().nullable(), value: z.string() }),
        )
        .optional(),
      family: z.string().optional(),
    })
    .nullable(),
  probes: z.array(
    z.object({
      purpose: z.string(),
      method: z.string(),
      url: z.string(),
      status: z.number().int().nullable(),
      finding: z.string(),
      safety: z.enum(["replay", "safe-method", "decoy", "may-execute"]).optional(),
      requestId: z.string().optional(),
      durationMs: z.number().optional(),
      error: z.string().optional(),
    }),
  ),
  sideEffects: z.object({
    unsafeProbes: z.number().int().min(0),
    unsafe: z
      .array(
        z.object({ n: z.number().int().min(1), method: z.string(), url: z.string(), why: z.string().min(1) }),
      )
      .optional(),
    withheld: z.array(z.string()).optional(),
  }),
  nextSteps: z.array(z.string()).optional(),
  mode: z.enum(["recording", "live"]).optional(),
});

export const logsReportSchema = z.object({
  schema: z.literal("why403.logs/v1"),
  files: z.array(
    z.object({ path: z.string(), format: z.string(), lines: z.number().int(), denials: z.number().int() }),
  ),
  denials: z.number().int(),
  byCause: z.record(z.string(), z.number().int()),
  top: z.object({
    paths: z.array(z.tuple([z.string(), z.number()])),
    clients: z.array(z.tuple([z.string(), z.number()])),
    rules: z.array(z.tuple([z.string(), z.number()])),
  }),
  entries: z.array(
    z
      .object({
        time: z.string().nullable().optional(),
        file: z.string(),
        line: z.number().int(),
        status: z.number().int().nullable().optional(),
        method: z.string().nullable().optional(),
        path: z.string().nullable().optional(),
        client: z.string().nullable().optional(),
        cause: z.string().nullable().optional(),
        rule: z.string().nullable().optional(),
        message: z.string().nullable().optional(),
        requestId: z.string().nullable().optional(),
      })
      .passthrough(),
  ),
});

const directiveRef = z.object({
  directive: z.string(),
  args: z.array(z.string()),
  file: z.string(),
  line: z.number().int().min(1),
});

export const configDecisionSchema = z
  .object({
    schema: z.literal("why403.config/v1"),
    request: z.object({ method: z.string(), url: z.string(), client: z.string().nullable() }),
    decision: z.enum(["allow", "deny", "unknown"]),
    status: z.number().int().nullable(),
    decidedBy: directiveRef.nullable(),
    context: z.array(
      z.object({
        block: z.string(),
        args: z.array(z.string()).optional(),
        file: z.string(),
        line: z.number().int(),
      }),
    ),
    unknowns: z.array(z.string()),
    fix: z.array(z.string()),
  })
  .passthrough();
