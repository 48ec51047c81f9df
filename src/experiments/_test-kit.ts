// A fake transport and a ready investigation state for experiment unit tests.

import { Pacer } from "../http/pacer.js";
import type { Clock, SendResult, Transport } from "../http/types.js";
import { fingerprint } from "../investigate/deps.js";
import { Prober } from "../investigate/prober.js";
import type { InvestigationState, ProbeContext } from "../investigate/types.js";
import type { Header, RequestModel, ResponseModel } from "../model.js";

export function res(status: number, body = "", headers: Header[] = []): ResponseModel {
  return {
    status,
    statusText: "",
    httpVersion: "HTTP/1.1",
    headers: [["Content-Type", "text/html"], ...headers],
    body: Buffer.from(body),
    bodyTruncated: false,
  };
}

export type FakeHandler = (req: RequestModel) => ResponseModel;

export const fakeClock = (): Clock & { slept: number[] } => {
  let t = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
};

export interface Kit {
  ctx: ProbeContext;
  state: InvestigationState;
  prober: Prober;
  sent: RequestModel[];
  clock: ReturnType<typeof fakeClock>;
}

export async function kit(
  request: RequestModel,
  handler: FakeHandler,
  opts: { allowSideEffects?: boolean; maxProbes?: number; maxUnsafe?: number } = {},
): Promise<Kit> {
  const sent: RequestModel[] = [];
  const transport: Transport = {
    async send(req): Promise<SendResult> {
      sent.push(req);
      return { ok: true, response: handler(req), durationMs: 1 };
    },
  };
  const clock = fakeClock();
  const prober = new Prober({
    transport,
    clock,
    pacer: new Pacer(1000, clock),
    maxProbes: opts.maxProbes ?? 30,
    requestIds: true,
    runId: "test",
    randomToken: (() => {
      let i = 0;
      return () => `r${++i}`;
    })(),
    allowSideEffects: opts.allowSideEffects ?? false,
    maxUnsafe: opts.maxUnsafe ?? 10,
  });
  const replayed = await prober.send(request, "replay", "replay");
  const baseline = replayed.response!;
  const state: InvestigationState = {
    runId: "test",
    original: request,
    target: request,
    baseline,
    baselineFingerprint: fingerprint(baseline, request),
    evidence: [],
    trigger: null,
    candidates: [],
    allowSideEffects: opts.allowSideEffects ?? false,
    facts: {},
    client: null,
    unverified: [],
    withheld: [],
    ran: new Set(),
  };
  return { ctx: prober.context(state), state, prober, sent, clock };
}

export function postRequest(
  path: string,
  body: string,
  headers: Header[] = [],
  contentType = "application/x-www-form-urlencoded",
): RequestModel {
  return {
    method: "POST",
    url: `http://app.test${path}`,
    headers: [["Content-Type", contentType], ...headers],
    body: Buffer.from(body),
    options: {},
  };
}

/** Non-safe requests that went to a non-decoy path, the replay excluded. */
export function unsafeSent(k: Kit): RequestModel[] {
  return k.sent
    .slice(1)
    .filter(
      (r) =>
        !["GET", "HEAD", "OPTIONS"].includes(r.method) &&
        !new URL(r.url).pathname.startsWith("/.well-known/why403/"),
    );
}

const NGINX_TITLES: Record<number, string> = { 404: "404 Not Found", 405: "405 Not Allowed" };

/** nginx's own canned error page (ngx_http_special_response.c), as the web server writes it itself. */
export function nginxPage(status: 404 | 405): ResponseModel {
  const t = NGINX_TITLES[status]!;
  return res(
    status,
    `<html>\r\n<head><title>${t}</title></head>\r\n<body>\r\n<center><h1>${t}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    [["Server", "nginx"]],
  );
}

const isDecoyPath = (url: string) => new URL(url).pathname.startsWith("/.well-known/why403/");

/**
 * A host whose decoy prefix the web server answers itself (no application behind
 * it): safe requests there get nginx's canned 404 (GET/HEAD) or 405 (OPTIONS);
 * everything else goes to `handler`.
 */
export function withInertDecoy(handler: FakeHandler): FakeHandler {
  return (req) => {
    if (isDecoyPath(req.url) && ["GET", "HEAD"].includes(req.method)) return nginxPage(404);
    if (isDecoyPath(req.url) && req.method === "OPTIONS") return nginxPage(405);
    return handler(req);
  };
}
