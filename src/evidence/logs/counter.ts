// Counting keys (paths, clients, rules) in bounded memory: the first
// MAX_DISTINCT_KEYS keys are counted exactly. Later new keys go to one
// "(other)" bucket, except that a Misra-Gries summary of OVERFLOW_SLOTS keys
// follows the ones that come again: a key that turns up often after the table
// filled (a client flooding late in a day's log) is still listed, where the
// bucket alone hid it. Its count is a lower bound, short by at most about
// 1/(OVERFLOW_SLOTS + 1) of the later keys' total.

export const MAX_DISTINCT_KEYS = 10_000;
export const OTHER_KEY = "(other)";
/** Keys the summary of the later keys holds at most. */
export const OVERFLOW_SLOTS = 64;
/** Later keys seen once lately, by hash (a power of two). */
const RECENT_SLOTS = 4096;

export class BoundedCounter {
  /** Each key's count in a box of its own: counting a known key is one lookup, no map write. */
  private readonly counts = new Map<string, { n: number }>();
  /** Everything counted once the table was full (shown as the summary's keys and OTHER_KEY). */
  private overflow = 0;
  /** Misra-Gries: a key's count here is at most its true count among the later keys, and short by at most overflow / (slots + 1). */
  private readonly later = new Map<string, { n: number }>();
  /**
   * A later key waits here until it comes again: most later keys come once (a
   * client refused once among thousands), and the summary would turn over on
   * each of them (a map entry made and dropped per key); a slot costs a hash.
   */
  private readonly recent: Array<string | undefined> = new Array(RECENT_SLOTS);
  private readonly recentN = new Float64Array(RECENT_SLOTS);
  constructor(
    private readonly maxKeys = MAX_DISTINCT_KEYS,
    private readonly slots = OVERFLOW_SLOTS,
  ) {}

  add(key: string, by = 1): void {
    const k = key.length > 512 ? `${key.slice(0, 511)}…` : key;
    const known = this.counts.get(k);
    if (known !== undefined) known.n += by;
    else if (this.counts.size < this.maxKeys) this.counts.set(k, { n: by });
    else this.addLater(k, by);
  }

  private addLater(k: string, added: number): void {
    this.overflow += added;
    const held = this.later.get(k);
    if (held !== undefined) {
      held.n += added;
      return;
    }
    if (this.slots === 0) return;
    const slot = hashOf(k) & (RECENT_SLOTS - 1);
    if (this.recent[slot] !== k) {
      this.recent[slot] = k;
      this.recentN[slot] = added;
      return;
    }
    // Come again: into the summary with what it waited with.
    const by = added + (this.recentN[slot] as number);
    this.recent[slot] = undefined;
    if (this.later.size < this.slots) {
      this.later.set(k, { n: by });
      return;
    }
    // Full: every held key and the new one give up the same amount (the new key's
    // weight, or the smallest held count), and keys left at 0 make room.
    let least = by;
    for (const box of this.later.values()) if (box.n < least) least = box.n;
    for (const [key, box] of this.later) {
      box.n -= least;
      if (box.n === 0) this.later.delete(key);
    }
    if (by > least) this.later.set(k, { n: by - least });
  }

  /** The n largest, ties broken by key for stable output; what no listed key holds is under OTHER_KEY. */
  top(n = 10): Array<[string, number]> {
    const all = new Map<string, number>();
    for (const [k, box] of this.counts) all.set(k, box.n);
    let other = this.overflow;
    for (const [k, box] of this.later) {
      all.set(k, (all.get(k) ?? 0) + box.n);
      other -= box.n;
    }
    if (other > 0) all.set(OTHER_KEY, (all.get(OTHER_KEY) ?? 0) + other);
    return [...all].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }
}

/** FNV-1a over the UTF-16 code units. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
