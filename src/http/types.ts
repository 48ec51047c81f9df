// The sending side's vocabulary: what a Transport takes and gives back.

import type { RequestModel, ResponseModel } from "../model.js";

export type NetworkFailureKind =
  | "timeout"
  | "refused"
  | "reset"
  | "tls"
  | "dns"
  | "malformed"
  | "too-large"
  | "other";

/** A request that got no HTTP answer, with a message a person can act on. */
export interface NetworkFailure {
  kind: NetworkFailureKind;
  message: string;
}

export interface SendOptions {
  /** Per-request timeout (headers, body and overall), ms. */
  timeoutMs?: number;
  /** Accept invalid TLS certificates (curl -k). Defaults to the request's own option. */
  insecure?: boolean;
  /** Proxy URL (curl -x). Defaults to the request's own option. */
  proxy?: string;
  /** Body byte cap before decoding. */
  maxBodyBytes?: number;
  /** Body byte cap after decoding gzip/deflate/br. */
  maxDecodedBytes?: number;
}

export type SendResult =
  | { ok: true; response: ResponseModel; durationMs: number }
  | { ok: false; failure: NetworkFailure; durationMs: number };

/** Sends one request, never following redirects. Tests substitute their own. */
export interface Transport {
  send(req: RequestModel, opts?: SendOptions): Promise<SendResult>;
  /** Releases pooled connections; optional. */
  close?(): Promise<void>;
}

/** Time source and sleeper, passed in so tests need no real waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}
