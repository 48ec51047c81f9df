// A small flag parser for why403's own options. Unlike a general parser it can
// leave unknown arguments in place, because `why403 curl …` passes everything it
// does not own through to the curl parser untouched.
import { UsageError } from "../errors.js";
import { quoteArgument } from "../redact.js";

export type FlagKind = "boolean" | "string" | "number" | "list";

export interface FlagSpec {
  kind: FlagKind;
  /** One-letter alias without the dash. */
  short?: string;
  /** For "list": how many values follow (`--server-logs a b c` takes until the next flag). */
  greedy?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  /** Arguments that were not why403 flags, in order. */
  rest: string[];
}

/**
 * Pulls the flags in `specs` out of `argv`. With `passThrough`, unknown options stay
 * in `rest` (for curl); otherwise an unknown option is a usage error.
 */
export function parseArgs(argv: string[], specs: FlagSpecs, passThrough = false): ParsedArgs {
  const flags: FlagValues = {};
  const rest: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--" && !passThrough) {
      rest.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (key in specs) {
        name = key;
        if (eq !== -1) inline = arg.slice(eq + 1);
      } else if (key.startsWith("no-") && specs[key.slice(3)]?.kind === "boolean") {
        flags[key.slice(3)] = false;
        continue;
      }
    } else if (!passThrough && /^-[a-zA-Z]$/.test(arg)) {
      name = byShort.get(arg.slice(1));
    }
    if (!name) {
      if (!passThrough && arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${arg}`);
      rest.push(arg);
      continue;
    }
    const spec = specs[name]!;
    if (spec.kind === "boolean") {
      flags[name] = inline === undefined ? true : !/^(false|0|no)$/i.test(inline);
      continue;
    }
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`option --${name} needs a value`);
      i++;
      return next;
    };
    if (spec.kind === "string") flags[name] = takeValue();
    else if (spec.kind === "number") {
      const raw = takeValue();
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0)
        throw new UsageError(`option --${name} needs a non-negative number, got ${quoteArgument(raw)}`);
      flags[name] = n;
    } else {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(takeValue());
      if (spec.greedy && inline === undefined) {
        while (i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) list.push(argv[++i]!);
      }
      flags[name] = list;
    }
  }
  return { flags, rest };
}
