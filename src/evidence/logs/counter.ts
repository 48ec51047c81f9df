// Counting keys (paths, clients, rules) in bounded memory: the first
// MAX_DISTINCT keys are counted exactly, later new keys go to one "(other)" bucket.

export const MAX_DISTINCT_KEYS = 10_000;
export const OTHER_KEY = "(other)";

export class BoundedCounter {
  /** Each key's count in a box of its own: counting a known key is one lookup, no map write. */
  private readonly counts = new Map<string, { n: number }>();
  /** Counted under OTHER_KEY once the map is full (kept out of it: no map write per new key). */
  private other = 0;
  constructor(private readonly maxKeys = MAX_DISTINCT_KEYS) {}

  add(key: string, by = 1): void {
    const k = key.length > 512 ? `${key.slice(0, 511)}…` : key;
    const known = this.counts.get(k);
    if (known !== undefined) known.n += by;
    else if (this.counts.size < this.maxKeys) this.counts.set(k, { n: by });
    else this.other += by;
  }

  /** The n largest, ties broken by key for stable output. */
  top(n = 10): Array<[string, number]> {
    const all: Array<[string, number]> = [];
    for (const [k, box] of this.counts) all.push([k, box.n]);
    if (this.other > 0) {
      const at = all.findIndex(([k]) => k === OTHER_KEY);
      if (at === -1) all.push([OTHER_KEY, this.other]);
      else all[at] = [OTHER_KEY, (all[at] as [string, number])[1] + this.other];
    }
    return all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
}
