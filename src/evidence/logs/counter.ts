// Counting keys (paths, clients, rules) in bounded memory: the first
// MAX_DISTINCT keys are counted exactly, later new keys go to one "(other)" bucket.

export const MAX_DISTINCT_KEYS = 10_000;
export const OTHER_KEY = "(other)";

export class BoundedCounter {
  private readonly counts = new Map<string, number>();
  constructor(private readonly maxKeys = MAX_DISTINCT_KEYS) {}

  add(key: string, by = 1): void {
    const k = key.length > 512 ? `${key.slice(0, 511)}…` : key;
    const known = this.counts.get(k);
    if (known !== undefined) this.counts.set(k, known + by);
    else if (this.counts.size < this.maxKeys) this.counts.set(k, by);
    else this.counts.set(OTHER_KEY, (this.counts.get(OTHER_KEY) ?? 0) + by);
  }

  /** The n largest, ties broken by key for stable output. */
  top(n = 10): Array<[string, number]> {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
}
