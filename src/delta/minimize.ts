// Finds the smallest part of a request that still triggers the refusal:
// hierarchical delta debugging over the request tree (groups, then members,
// then their members; ddmin at each level, so probes grow with log(size)),
// then a bounded ddmin over the tokens and characters of each surviving text.
// The result is 1-minimal in parts: an anomaly-scoring WAF that needs two
// fragments together yields both.

import { createHash } from "node:crypto";
import type { RequestModel, TriggerLocation } from "../model.js";
import { ddmin, type Outcome } from "./ddmin.js";
import { type RequestTree, requestTree } from "./request-tree.js";
import {
  EMPTY_SELECTION,
  type FragmentNode,
  isKept,
  keptLeaves,
  type Selection,
  withOverride,
  withRemoved,
} from "./tree.js";

export interface MinimalPart {
  location: TriggerLocation;
  /** JSON path, field, header, cookie or parameter name; null for a whole body or a line-less text. */
  name: string | null;
  /** The shortest text of this part that still triggers (may be shorter than what was sent). */
  value: string;
  /** The value as sent. */
  original: string;
  /** The refusal stays with the value emptied: the rule matched the name (or the part's presence). */
  nameMatched?: boolean;
}

export interface MinimizeOptions {
  /** Most requests the whole search may send. */
  maxTests: number;
  /** Most requests spent shortening one value. Default 16. */
  maxValueTests?: number;
  /** A likely trigger inside a value (an attack pattern's match), tried alone first. */
  seed?: (value: string) => string | null;
}

export interface MinimizeResult {
  /** Does the refusal depend on the request's content at all? null: the first test was unresolved. */
  followsContent: boolean | null;
  parts: MinimalPart[];
  tests: number;
  /** The budget ran out; `parts` is the smallest failing set found, possibly not 1-minimal. */
  exhausted: boolean;
  /** The request with only the minimal parts. */
  minimalRequest: RequestModel | null;
  /** How the body was read (form fields are decoded, so their sent form differs). */
  bodyFormat?: RequestTree["bodyFormat"];
}

const TOKEN = /[A-Za-z0-9_]+|\s+|[^A-Za-z0-9_\s]/g;

const WORD = /^[A-Za-z0-9_]+$/;

export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

function allGroupsRemoved(tree: RequestTree): Selection {
  return withRemoved(
    EMPTY_SELECTION,
    tree.root.children.map((g) => g.id),
  );
}

export async function minimizeRequest(
  req: RequestModel,
  test: (candidate: RequestModel) => Promise<Outcome>,
  options: MinimizeOptions,
): Promise<MinimizeResult> {
  const tree = requestTree(req);
  let tests = 0;
  let exhausted = false;
  const remaining = () => Math.max(0, options.maxTests - tests);
  // Different steps can build the very same request (a seed that failed comes back
  // as a window of the binary search): its answer is known, so it is not sent again.
  const answers = new Map<string, Outcome>();
  const run = async (sel: Selection): Promise<Outcome> => {
    const candidate = tree.render(sel);
    const key = requestKey(candidate);
    const known = answers.get(key);
    if (known) return known;
    if (remaining() === 0) {
      exhausted = true;
      return "unresolved";
    }
    tests++;
    const outcome = await test(candidate);
    // An unresolved answer (an error, a rate limit) may differ next time.
    if (outcome !== "unresolved") answers.set(key, outcome);
    return outcome;
  };

  if (tree.root.children.length === 0) {
    return { followsContent: false, parts: [], tests, exhausted, minimalRequest: null };
  }
  const bare = await run(allGroupsRemoved(tree));
  if (bare !== "pass") {
    return {
      followsContent: bare === "fail" ? false : null,
      parts: [],
      tests,
      exhausted,
      minimalRequest: null,
    };
  }

  // Hierarchical DD: breadth first, ddmin over the kept children of each kept node.
  let sel: Selection = EMPTY_SELECTION;
  const queue: FragmentNode[] = [tree.root];
  while (queue.length > 0 && !exhausted) {
    const node = queue.shift()!;
    const kids = node.children.filter((c) => isKept(c, sel));
    if (kids.length > 1) {
      const base = sel;
      const found = await ddmin(
        kids,
        (subset) => {
          const keep = new Set(subset.map((k) => k.id));
          return run(
            withRemoved(
              base,
              kids.filter((k) => !keep.has(k.id)).map((k) => k.id),
            ),
          );
        },
        { maxTests: remaining() },
      );
      if (found.exhausted) exhausted = true;
      const keep = new Set(found.result.map((k) => k.id));
      sel = withRemoved(
        sel,
        kids.filter((k) => !keep.has(k.id)).map((k) => k.id),
      );
    }
    for (const k of node.children) if (isKept(k, sel) && k.children.length > 0) queue.push(k);
  }

  // Shorten each surviving text to the shortest window of tokens, then trim
  // characters off its two ends: a trigger is nearly always one contiguous
  // match, and two binary searches cost 2·log2(n) probes where ddmin over
  // characters could cost n².
  const leaves = keptLeaves(tree.root, sel);
  const maxValueTests = options.maxValueTests ?? 16;
  const nameMatched = new Set<number>();
  for (const leaf of leaves) {
    if (leaf.value === undefined || leaf.value.length <= 1 || exhausted) continue;
    // Headers that a check compares whole (an origin, a content type) have no
    // meaningful shorter form: "e" of "https://evil.example" explains nothing.
    if (leaf.location === "header" && WHOLE_VALUE_HEADERS.test(leaf.name ?? "")) continue;
    const base = sel;
    // Header and cookie rules often key on the name or the presence (a scanner's
    // header, a charset header): one probe with the value emptied settles that
    // before a search through a long value.
    if (
      (leaf.location === "header" || leaf.location === "cookie") &&
      leaf.name &&
      (await run(withOverride(base, leaf.id, ""))) === "fail"
    ) {
      sel = withOverride(sel, leaf.id, "");
      nameMatched.add(leaf.id);
      continue;
    }
    let valueTests = 0;
    const fails = async (text: string): Promise<boolean> => {
      if (valueTests >= maxValueTests) return false;
      valueTests++;
      return (await run(withOverride(base, leaf.id, text))) === "fail";
    };
    // One probe on a likely fragment can skip most of the window search.
    const seed = options.seed?.(leaf.value) ?? null;
    const start =
      seed && seed !== leaf.value && leaf.value.includes(seed) && (await fails(seed)) ? seed : leaf.value;
    const text = await shortestWindow(start, fails);
    if (text !== leaf.value) sel = withOverride(sel, leaf.id, text);
    // Shortened to a character or two: was it the name all along (`$_COOKIE=x`,
    // `X-Scanner: r`)? One probe with the value emptied says.
    const checked = leaf.location === "header" || leaf.location === "cookie";
    if (
      text.length <= 2 &&
      leaf.name &&
      !checked &&
      !leaf.valueIsName &&
      !/^line \d+$/.test(leaf.name) &&
      !exhausted
    ) {
      if ((await run(withOverride(base, leaf.id, ""))) === "fail") {
        sel = withOverride(sel, leaf.id, "");
        nameMatched.add(leaf.id);
      }
    }
  }

  const parts: MinimalPart[] = leaves.map((leaf) => {
    const part: MinimalPart = {
      location: leaf.location,
      name: leaf.name,
      value: sel.overrides.get(leaf.id) ?? leaf.value ?? "",
      original: leaf.value ?? "",
    };
    if (nameMatched.has(leaf.id)) part.nameMatched = true;
    return part;
  });
  return {
    followsContent: true,
    parts,
    tests,
    exhausted,
    minimalRequest: tree.render(sel),
    bodyFormat: tree.bodyFormat,
  };
}

/** Identifies a request exactly (method, URL, headers in order, body bytes), in bounded size. */
function requestKey(req: RequestModel): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify([req.method, req.url, req.headers]));
  if (req.body) hash.update(req.body);
  return `${req.body ? "b" : "-"}${hash.digest("base64")}`;
}

const WHOLE_VALUE_HEADERS =
  /^(origin|referer|host|content-type|accept|accept-language|x-requested-with|sec-fetch-[a-z]+|x-forwarded-[a-z]+|x-real-ip)$/i;

/** Largest k in [lo, hi) with ok(k), given ok(lo) holds and ok is monotone (true then false). */
async function lastTrue(lo: number, hi: number, ok: (k: number) => Promise<boolean>): Promise<number> {
  let good = lo;
  let bad = hi;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (await ok(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/**
 * The shortest contiguous window of `text` that still fails: cut whole tokens
 * from the left, then from the right, then characters off the two end tokens.
 * `fails` answers false once its own budget is spent, which keeps what we have.
 */
export async function shortestWindow(
  text: string,
  fails: (candidate: string) => Promise<boolean>,
  options: { tokens?: RegExp; trimChars?: boolean } = {},
): Promise<string> {
  const tokens = options.tokens ? (text.match(options.tokens) ?? []) : tokenize(text);
  if (tokens.join("") !== text || tokens.length === 0) return text;
  const n = tokens.length;
  const from = await lastTrue(0, n, (k) => fails(tokens.slice(k).join("")));
  // Cutting k tokens off the right end.
  const cutRight = await lastTrue(0, n - from, (k) => fails(tokens.slice(from, n - k).join("")));
  const window = tokens.slice(from, n - cutRight);
  if (options.trimChars === false) return window.join("");
  const first = window[0]!;
  const rest = window.slice(1).join("");
  // A word at either end of a window of several tokens stays whole: rules match
  // keywords whole, and "D) ELSE (C" explains less than "CMD) ELSE (CMD" while
  // costing a binary search per end. A lone token is still cut (a charset, a name).
  const cutsWords = window.length === 1;
  const dropLeft =
    cutsWords || !WORD.test(first) ? await lastTrue(0, first.length, (k) => fails(first.slice(k) + rest)) : 0;
  const trimmed = first.slice(dropLeft) + rest;
  const last = window.length > 1 ? window[window.length - 1]! : trimmed;
  const head = window.length > 1 ? trimmed.slice(0, trimmed.length - last.length) : "";
  const dropRight =
    cutsWords || !WORD.test(last)
      ? await lastTrue(0, last.length, (k) => fails(head + last.slice(0, last.length - k)))
      : 0;
  return head + last.slice(0, last.length - dropRight);
}
