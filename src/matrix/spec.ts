// The authorization matrix file (`why403 matrix <file.yaml|json>`): parsed,
// `${NAME}` filled from the environment, validated into plain data. Every
// mistake a user can make is one InputError naming the place in the file.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.js";
import { MAX_MATRIX_CELLS } from "../limits.js";
import type { Header } from "../model.js";
import { redactUrl } from "../redact.js";

export interface MatrixIdentity {
  name: string;
  headers: Header[];
  /** Cookie name → value, sent as one Cookie header. */
  cookies: Array<[string, string]>;
  /** Query parameters added to every request (an API key some services take in the URL). */
  query: Array<[string, string]>;
}

export interface MatrixCheck {
  /** "GET /api/projects", as the file names it (the request line, without secrets in the path). */
  label: string;
  method: string;
  /** Path and query, joined to the base URL. */
  path: string;
  headers: Header[];
  body: string | null;
  /** Identities that must be let through; every other identity must be refused. */
  allow: string[];
}

export interface MatrixSpec {
  base: string;
  identities: MatrixIdentity[];
  checks: MatrixCheck[];
}

const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const identitySchema = z
  .object({ headers: stringMap.optional(), cookies: stringMap.optional(), query: stringMap.optional() })
  .strict()
  .nullable();

const checkSchema = z
  .object({
    request: z.string().optional(),
    method: z.string().optional(),
    path: z.string().optional(),
    name: z.string().optional(),
    headers: stringMap.optional(),
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    allow: z.union([z.array(z.string()), z.string()]),
  })
  .strict();

const fileSchema = z
  .object({
    base: z.string(),
    identities: z.record(z.string(), identitySchema),
    checks: z.array(checkSchema).min(1),
  })
  .strict();

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses the text of a matrix file (YAML, which JSON also is) with the environment given. */
export function parseMatrix(text: string, file: string, env: NodeJS.ProcessEnv): MatrixSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    const first = String((error as Error).message).split("\n")[0];
    throw new InputError(`${file} is neither valid YAML nor JSON: ${first}`);
  }
  const filled = fillEnvironment(raw, env, file, []);
  const parsed = fileSchema.safeParse(filled);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "the top level";
    throw new InputError(`${file}: ${where}: ${issue.message}`);
  }
  const base = checkBase(parsed.data.base, file);
  const identities = Object.entries(parsed.data.identities).map(([name, v]) => ({
    name,
    headers: headerList(v?.headers, `${file}: identities.${name}.headers`),
    cookies: Object.entries(v?.cookies ?? {}).map(([k, c]) => [k, String(c)] as [string, string]),
    query: Object.entries(v?.query ?? {}).map(([k, q]) => [k, String(q)] as [string, string]),
  }));
  if (identities.length === 0) throw new InputError(`${file}: identities: name at least one identity`);
  const names = new Set(identities.map((i) => i.name));
  const checks = uniqueLabels(parsed.data.checks.map((c, i) => toCheck(c, `${file}: checks.${i}`, names)));
  if (checks.length * identities.length > MAX_MATRIX_CELLS)
    throw new InputError(
      `${file}: ${checks.length} checks × ${identities.length} identities is more than ${MAX_MATRIX_CELLS} cells`,
    );
  return { base, identities, checks };
}

function checkBase(base: string, file: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new InputError(`${file}: base must be an absolute http(s) URL, got ${JSON.stringify(base)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InputError(`${file}: base must be an http or https URL, got ${url.protocol}`);
  return base.replace(/\/+$/, "");
}

function toCheck(c: z.infer<typeof checkSchema>, where: string, identities: Set<string>): MatrixCheck {
  const line = c.request?.trim().split(/\s+/) ?? [];
  if (c.request !== undefined && line.length !== 2)
    throw new InputError(`${where}.request must be "METHOD /path", got ${JSON.stringify(c.request)}`);
  const method = (c.method ?? line[0] ?? "").toUpperCase();
  const path = c.path ?? line[1] ?? "";
  if (!TOKEN.test(method))
    throw new InputError(`${where}: give the request as "METHOD /path" (or method and path)`);
  if (!path.startsWith("/"))
    throw new InputError(`${where}: the path must start with /, got ${JSON.stringify(path)}`);
  const allow = typeof c.allow === "string" ? [c.allow] : c.allow;
  for (const name of allow)
    if (!identities.has(name))
      throw new InputError(`${where}.allow names an unknown identity ${JSON.stringify(name)}`);
  const headers = headerList(c.headers, `${where}.headers`);
  let body: string | null = null;
  if (typeof c.body === "string") body = c.body;
  else if (c.body !== undefined) {
    body = JSON.stringify(c.body);
    if (!headers.some(([n]) => n.toLowerCase() === "content-type"))
      headers.push(["content-type", "application/json"]);
  }
  return { label: c.name ?? `${method} ${redactPath(path)}`, method, path, headers, body, allow };
}

function headerList(map: Record<string, string | number | boolean> | undefined, where: string): Header[] {
  const out: Header[] = [];
  for (const [name, value] of Object.entries(map ?? {})) {
    if (!TOKEN.test(name)) throw new InputError(`${where}: ${JSON.stringify(name)} is not a header name`);
    const text = String(value);
    if (/[\r\n]/.test(text))
      throw new InputError(`${where}.${name}: a header value may not hold a line break`);
    out.push([name, text]);
  }
  return out;
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces `${NAME}` in every string with the environment's value. A variable
 * that is unset or empty is an error: CI systems expand a missing secret to an
 * empty string, and a matrix run with an empty token would test the wrong identity.
 */
function fillEnvironment(value: unknown, env: NodeJS.ProcessEnv, file: string, path: string[]): unknown {
  if (typeof value === "string")
    return value.replace(VARIABLE, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === "")
        throw new InputError(
          `${file}: environment variable ${name} is ${v === undefined ? "not set" : "empty"} (used in ${path.join(".") || "the file"})`,
        );
      return v;
    });
  if (Array.isArray(value)) return value.map((v, i) => fillEnvironment(v, env, file, [...path, String(i)]));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillEnvironment(v, env, file, [...path, k]);
    return out;
  }
  return value;
}

/** A path with any secret in its query redacted, for labels that reach the output. */
function redactPath(path: string): string {
  return redactUrl(`http://x${path}`).slice("http://x".length);
}

/** Two checks of the same request (other headers or body) get "#2", "#3" so each row is told apart. */
function uniqueLabels(checks: MatrixCheck[]): MatrixCheck[] {
  const seen = new Map<string, number>();
  return checks.map((c) => {
    const n = (seen.get(c.label) ?? 0) + 1;
    seen.set(c.label, n);
    return n === 1 ? c : { ...c, label: `${c.label} #${n}` };
  });
}
