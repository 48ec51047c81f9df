// Builds Exchanges for the tests of this folder.
import type { Exchange, Header } from "../../model.js";

export interface ExchangeSpec {
  method?: string;
  url?: string;
  reqHeaders?: Header[];
  reqBody?: string | null;
  status?: number;
  statusText?: string;
  resHeaders?: Header[];
  resBody?: string;
  redirects?: Exchange[];
  startedAt?: Date;
}

export function makeExchange(spec: ExchangeSpec = {}): Exchange {
  return {
    request: {
      method: spec.method ?? "POST",
      url: spec.url ?? "https://app.test/api/items",
      headers: spec.reqHeaders ?? [],
      body: spec.reqBody == null ? null : Buffer.from(spec.reqBody),
      options: {},
    },
    response: {
      status: spec.status ?? 403,
      statusText: spec.statusText ?? "Forbidden",
      httpVersion: "HTTP/1.1",
      headers: spec.resHeaders ?? [],
      body: Buffer.from(spec.resBody ?? ""),
      bodyTruncated: false,
    },
    redirects: spec.redirects ?? [],
    startedAt: spec.startedAt,
  };
}

const b64url = (s: string) => Buffer.from(s).toString("base64url");

export function makeJwt(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { alg: "RS256", typ: "JWT" },
): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${header.alg === "none" ? "" : "c2lnbmF0dXJlLW5vdC1jaGVja2Vk"}`;
}
