// The last word on a finished report: what server-side evidence says about who
// refused (an embedded firewall found in the server's logs or proven by the
// content search), the exact fix steps it computed, and next steps that no
// longer apply because their input was given.
import type { Facts } from "../investigate/types.js";
import type { Evidence, Layer, Report } from "../model.js";
import { redactText } from "../redact.js";
import { SERVER_DECISIVE } from "./server-evidence.js";

/** The layers a refusing product found in server logs stands for, when it sits inside the web server. */
const EMBEDDED_LAYERS: Record<string, Layer> = { modsecurity: "waf", coraza: "waf" };

/**
 * After server-side evidence: when the server's own logs show an embedded
 * firewall refused the request (ModSecurity inside Apache or nginx), it is the
 * responder and the web server that answered becomes its relay. The verdict's
 * fix starts with the exact steps the evidence computed (a file-system walk's
 * chmod, a config decision's fix).
 */
export function refineWithServerEvidence(report: Report, evidence: Evidence[], facts: Facts = {}): void {
  const refusing = evidence.find(
    (e) =>
      typeof e.data?.product === "string" &&
      EMBEDDED_LAYERS[e.data.product] !== undefined &&
      (e.weights.waf ?? 0) >= SERVER_DECISIVE,
  );
  const current = report.baseline.responder;
  if (refusing && current.product !== refusing.data?.product) {
    const product = refusing.data?.product as string;
    const { relays = [], references, ...self } = current;
    report.baseline.responder = {
      layer: EMBEDDED_LAYERS[product] as Layer,
      product,
      evidence: [refusing.fact],
      ...(references ? { references } : {}),
      relays: self.layer === "unknown" && !self.product ? relays : [{ ...self }, ...relays],
    };
  }
  inferEmbeddedFirewall(report, facts);
  const verdict = report.verdict;
  if (!verdict) return;
  const exact: string[] = [];
  for (const e of evidence) {
    if ((e.weights[verdict.cause] ?? 0) < 4 || !Array.isArray(e.data?.fix)) continue;
    for (const step of e.data.fix as unknown[]) if (typeof step === "string") exact.push(redactText(step));
  }
  if (exact.length) {
    // A config's own fix names the section that matched; a snippet built from the request path does not.
    const fromConfig = evidence.some(
      (e) => e.data?.decides === verdict.cause && Array.isArray(e.data?.fix) && e.data.fix.length > 0,
    );
    const generic = verdict.fix.filter((f) => !(fromConfig && PATH_BUILT_SECTION.test(f)));
    verdict.fix = [...new Set([...exact, ...generic])];
  }
}

/** A template fix that opens a new <Location "/the/request/path"> rather than naming the section that matched. */
const PATH_BUILT_SECTION = /<Location "[^"]*">/;

/** The server-side inputs a run was given. */
export interface GivenInputs {
  serverLogs: boolean;
  nginxConf: boolean;
  apacheConf: boolean;
}

export function givenInputs(options: {
  serverLogs?: string[];
  nginxConf?: string;
  apacheConf?: string;
}): GivenInputs {
  return {
    serverLogs: (options.serverLogs ?? []).length > 0,
    nginxConf: options.nginxConf !== undefined,
    apacheConf: options.apacheConf !== undefined,
  };
}

/** Steps that ask for an input, by the input that answers them. */
const ASKS_FOR: Array<[input: keyof GivenInputs, step: RegExp]> = [
  ["serverLogs", /--server-logs\b/],
  ["nginxConf", /--nginx-conf\b/],
  ["apacheConf", /--apache-conf\b/],
];

/**
 * Next steps (and fix steps) must not ask for what the run was already given:
 * the logs, the nginx or Apache config; nor say to run `why403 config` on a
 * config that was evaluated.
 */
export function dropAnsweredSteps(report: Report, given: GivenInputs): void {
  const answered = ASKS_FOR.filter(([input]) => given[input]).map(([, step]) => step);
  if (report.nextSteps) report.nextSteps = report.nextSteps.filter((t) => !answered.some((re) => re.test(t)));
  const configGiven = given.nginxConf || given.apacheConf;
  if (report.verdict && configGiven)
    report.verdict.fix = report.verdict.fix.filter((t) => !/\bwhy403 config\b.*--conf <file>/.test(t));
}

/** Web servers whose own error page an embedded firewall (ModSecurity, Coraza) answers with. */
const EMBEDDING_SERVERS = new Set(["apache", "nginx", "openresty", "litespeed", "iis"]);

/**
 * A content rule proven on the decoy path that answers with the web server's own error
 * page is a firewall inside that server: the layer is shown, the server kept as relay.
 * Which module it is (ModSecurity, Coraza, NAXSI, a Lua filter) the answer does not say,
 * so no product is named until server logs do.
 */
function inferEmbeddedFirewall(report: Report, facts: Facts): void {
  const r = report.baseline.responder;
  if (report.verdict?.cause !== "waf" || !report.trigger) return;
  // Host-wide: the content search probed the decoy path, where no route of the app runs.
  if (!facts.contentSearchOnDecoy) return;
  if (r.layer !== "web-server" || !r.product || !EMBEDDING_SERVERS.has(r.product)) return;
  const { relays = [], references, ...self } = r;
  report.baseline.responder = {
    layer: "waf",
    product: null,
    evidence: [
      `inferred: a content rule refuses the request on ${r.product}'s own error page, host-wide: a firewall module inside ${r.product} (ModSecurity, Coraza, NAXSI…); --server-logs names it and the rule ids`,
      ...r.evidence,
    ],
    ...(references ? { references } : {}),
    relays: [{ ...self }, ...relays],
  };
}
