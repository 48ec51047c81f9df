// The counters `why403 watch` serves, in the Prometheus text exposition format
// (0.0.4), written directly: a few maps and one string per scrape. Every label
// value comes from a closed set (causes, layers, products, statuses, methods) or
// is capped (WAF rule ids: the first MAX_RULES distinct, then "other"); paths and
// clients never become labels. Distinct clients are counted, not named.
import { decisiveRule } from "../evidence/logs/classify.js";
import type { Joined } from "../evidence/logs/join.js";

export const MAX_RULES = 200;
/** The window of the distinct-clients gauge. */
export const CLIENT_WINDOW_MS = 5 * 60_000;
/** Clients remembered per cause; past it the gauge saturates (and says so in a flag metric). */
const MAX_CLIENTS = 50_000;
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const LAYER_OF: Record<string, string> = {
  modsecurity: "waf",
  coraza: "waf",
  nginx: "web-server",
  apache: "web-server",
  caddy: "web-server",
  iis: "web-server",
  haproxy: "proxy",
  squid: "proxy",
  varnish: "proxy",
  envoy: "proxy",
  traefik: "proxy",
  app: "application",
  django: "application",
  flask: "application",
  express: "application",
};

/** What one finalised denial contributes to the labels. */
export interface DenialLabels {
  cause: string;
  layer: string;
  product: string;
  status: string;
  method: string;
  rule: string | null;
}

export function labelsOf(j: Joined): DenialLabels {
  const a = j.rec;
  const product = a.product && a.product !== "app" && /^[a-z0-9-]{1,32}$/.test(a.product) ? a.product : "";
  return {
    cause: a.cause,
    layer: (a.product && LAYER_OF[a.product]) ?? "unknown",
    product,
    status: a.status !== null && a.status >= 100 && a.status <= 599 ? String(a.status) : "",
    method: a.method && METHODS.has(a.method) ? a.method : a.method ? "other" : "",
    rule: decisiveRule(a.rules),
  };
}

class Counter {
  readonly values = new Map<string, number>();
  inc(key: string, by = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
}

export class WatchMetrics {
  private readonly denials = new Counter();
  private readonly denialsByMethod = new Counter();
  private readonly ruleHits = new Counter();
  private readonly ruleHitsByMethod = new Counter();
  private readonly lines = new Counter();
  private readonly clients = new Map<string, Map<string, number>>();
  private clientsSaturated = 0;
  private readonly rules = new Set<string>();
  private readonly started = Date.now();

  constructor(private readonly now: () => number = Date.now) {}

  addLines(source: string, format: string, n: number): void {
    if (n > 0) this.lines.inc(key(source, format), n);
  }

  addDenial(j: Joined): DenialLabels {
    const l = labelsOf(j);
    this.denials.inc(key(l.cause, l.layer, l.product, l.status));
    this.denialsByMethod.inc(key(l.cause, l.method));
    if (l.rule !== null) {
      const rule = this.cappedRule(l.rule);
      this.ruleHits.inc(rule);
      this.ruleHitsByMethod.inc(key(rule, l.method));
    }
    if (j.rec.client) this.seeClient(l.cause, j.rec.client);
    return l;
  }

  private cappedRule(rule: string): string {
    if (this.rules.has(rule)) return rule;
    if (this.rules.size >= MAX_RULES || !/^[A-Za-z0-9._:-]{1,64}$/.test(rule)) return "other";
    this.rules.add(rule);
    return rule;
  }

  private seeClient(cause: string, client: string): void {
    let seen = this.clients.get(cause);
    if (!seen) {
      seen = new Map();
      this.clients.set(cause, seen);
    }
    // Re-inserted: the map stays ordered by last sighting, oldest first.
    seen.delete(client);
    if (seen.size >= MAX_CLIENTS) {
      const oldest = seen.keys().next().value as string;
      seen.delete(oldest);
      this.clientsSaturated = 1;
    }
    seen.set(client, this.now());
  }

  /** Distinct clients per cause seen within the window (old sightings are dropped here). */
  distinctClients(): Map<string, number> {
    const cutoff = this.now() - CLIENT_WINDOW_MS;
    const out = new Map<string, number>();
    for (const [cause, seen] of this.clients) {
      for (const [client, at] of seen) {
        if (at >= cutoff) break;
        seen.delete(client);
      }
      out.set(cause, seen.size);
    }
    return out;
  }

  /** Total denials counted so far. */
  total(): number {
    let n = 0;
    for (const v of this.denials.values.values()) n += v;
    return n;
  }

  render(): string {
    const out: string[] = [];
    family(
      out,
      "why403_denials_total",
      "counter",
      "Denials classified, by cause and by the layer, product and status that refused.",
      this.denials,
      ["cause", "layer", "product", "status"],
    );
    family(
      out,
      "why403_denials_by_method_total",
      "counter",
      "Denials by cause and request method (GET, POST, … or other).",
      this.denialsByMethod,
      ["cause", "method"],
    );
    family(
      out,
      "why403_rule_hits_total",
      "counter",
      `Denials by deciding WAF rule id (first ${MAX_RULES} distinct ids, the rest as other).`,
      this.ruleHits,
      ["rule"],
    );
    family(
      out,
      "why403_rule_hits_by_method_total",
      "counter",
      "Denials by deciding WAF rule id and request method.",
      this.ruleHitsByMethod,
      ["rule", "method"],
    );
    family(
      out,
      "why403_lines_total",
      "counter",
      "Log lines read, by source file and detected format.",
      this.lines,
      ["source", "format"],
    );
    const clients = new Counter();
    for (const [cause, n] of this.distinctClients()) clients.inc(key(cause), n);
    family(
      out,
      "why403_distinct_clients",
      "gauge",
      "Distinct client addresses with a denial of this cause in the last 5 minutes.",
      clients,
      ["cause"],
    );
    out.push(
      "# HELP why403_distinct_clients_saturated 1 when more clients were seen than are remembered (the gauge is a floor).",
      "# TYPE why403_distinct_clients_saturated gauge",
      `why403_distinct_clients_saturated ${this.clientsSaturated}`,
      "# HELP why403_watch_start_time_seconds When this watch started.",
      "# TYPE why403_watch_start_time_seconds gauge",
      `why403_watch_start_time_seconds ${Math.floor(this.started / 1000)}`,
    );
    return `${out.join("\n")}\n`;
  }
}

const SEP = "\u0000";

function key(...parts: string[]): string {
  return parts.join(SEP);
}

function family(out: string[], name: string, type: string, help: string, c: Counter, labels: string[]): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [k, v] of c.values) {
    const values = k.split(SEP);
    const pairs = labels.map((l, i) => `${l}="${escapeLabel(values[i] ?? "")}"`).join(",");
    out.push(`${name}{${pairs}} ${v}`);
  }
}

/** Text-format escaping of a label value: backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
