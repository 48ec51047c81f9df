// The last minute of denials for the live view, in one-second buckets: rates by
// cause, top rules and top paths. Bounded: 60 buckets, each with at most
// MAX_KEYS distinct paths (the rest counted as "(other)").
import { pathOnly } from "../evidence/logs/record.js";
import type { DenialLabels } from "./metrics.js";

const SECONDS = 60;
const MAX_KEYS = 500;

interface Bucket {
  second: number;
  causes: Map<string, number>;
  rules: Map<string, number>;
  paths: Map<string, number>;
}

export interface RecentView {
  /** Denials per second by cause over the last 10 seconds. */
  ratesByCause: Array<[string, number]>;
  topRules: Array<[string, number]>;
  topPaths: Array<[string, number]>;
  lastMinute: number;
}

export class RecentDenials {
  private readonly buckets: Bucket[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** `path` as logged: only its path part is kept (queries carry tokens). */
  add(path: string | null, labels: DenialLabels): void {
    const b = this.bucket(Math.floor(this.now() / 1000));
    bump(b.causes, labels.cause);
    if (labels.rule) bump(b.rules, labels.rule);
    if (path) bump(b.paths, pathOnly(path));
  }

  view(top = 5): RecentView {
    const nowSec = Math.floor(this.now() / 1000);
    const live = this.buckets.filter((b) => b.second > nowSec - SECONDS);
    const recent = live.filter((b) => b.second > nowSec - 10);
    const causes = sum(recent.map((b) => b.causes));
    return {
      ratesByCause: [...causes].map(([c, n]) => [c, n / 10] as [string, number]).sort((a, b) => b[1] - a[1]),
      topRules: topOf(sum(live.map((b) => b.rules)), top),
      topPaths: topOf(sum(live.map((b) => b.paths)), top),
      lastMinute: [...sum(live.map((b) => b.causes)).values()].reduce((a, n) => a + n, 0),
    };
  }

  private bucket(second: number): Bucket {
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.second === second) return last;
    const b: Bucket = { second, causes: new Map(), rules: new Map(), paths: new Map() };
    this.buckets.push(b);
    while (this.buckets.length > 0 && (this.buckets[0] as Bucket).second <= second - SECONDS)
      this.buckets.shift();
    return b;
  }
}

function bump(m: Map<string, number>, k: string): void {
  const key = m.has(k) || m.size < MAX_KEYS ? k : "(other)";
  m.set(key, (m.get(key) ?? 0) + 1);
}

function sum(maps: Array<Map<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, n] of m) out.set(k, (out.get(k) ?? 0) + n);
  return out;
}

function topOf(m: Map<string, number>, n: number): Array<[string, number]> {
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
}
