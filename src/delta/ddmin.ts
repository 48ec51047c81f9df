// Zeller's ddmin: from a failing set of parts, find a 1-minimal failing subset
// (removing any single remaining part makes the failure go away). "Fail" here
// means "the refusal still happens". The search is anytime: when the test
// budget runs out it returns the smallest failing set found so far.

/** fail: the refusal reproduced; pass: it clearly did not; unresolved: no conclusion (error, rate limit). */
export type Outcome = "fail" | "pass" | "unresolved";

export interface DdminResult<T> {
  /** The smallest failing subset found (1-minimal unless exhausted). */
  result: T[];
  /** Tests actually run (cache hits not counted). */
  tests: number;
  /** The test budget ran out before 1-minimality was shown. */
  exhausted: boolean;
}

export interface DdminOptions {
  /** Most tests to run; Infinity when absent. */
  maxTests?: number;
}

function split<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((items.length - start) / (n - i));
    out.push(items.slice(start, end));
    start = end;
  }
  return out.filter((s) => s.length > 0);
}

/**
 * ddmin over `items`, which must fail as a whole. `test` receives a subset in
 * the original order. Identical subsets are never tested twice.
 */
export async function ddmin<T>(
  items: readonly T[],
  test: (subset: T[]) => Promise<Outcome>,
  options: DdminOptions = {},
): Promise<DdminResult<T>> {
  const maxTests = options.maxTests ?? Number.POSITIVE_INFINITY;
  const indexed = items.map((item, index) => ({ item, index }));
  const cache = new Map<string, Outcome>();
  let tests = 0;
  let exhausted = false;

  const run = async (subset: typeof indexed): Promise<Outcome> => {
    const key = subset.map((s) => s.index).join(",");
    const known = cache.get(key);
    if (known) return known;
    if (tests >= maxTests) {
      exhausted = true;
      return "unresolved";
    }
    tests++;
    const outcome = await test(subset.map((s) => s.item));
    cache.set(key, outcome);
    return outcome;
  };

  let current = indexed;
  let n = 2;
  while (current.length >= 2 && !exhausted) {
    const subsets = split(current, n);
    let reduced = false;
    for (const subset of subsets) {
      if ((await run(subset)) === "fail") {
        current = subset;
        n = 2;
        reduced = true;
        break;
      }
      if (exhausted) break;
    }
    // With two halves the complements are the halves themselves.
    if (!reduced && !exhausted && subsets.length > 2) {
      for (const subset of subsets) {
        const drop = new Set(subset.map((s) => s.index));
        const complement = current.filter((s) => !drop.has(s.index));
        if ((await run(complement)) === "fail") {
          current = complement;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
        if (exhausted) break;
      }
    }
    if (!reduced && !exhausted) {
      if (n >= current.length) break;
      n = Math.min(n * 2, current.length);
    }
  }
  return { result: current.map((s) => s.item), tests, exhausted };
}
