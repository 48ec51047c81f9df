// The one place where the investigator reaches the modules other parts of
// why403 provide. TEMPORARY: src/fingerprint/match.ts was not written yet when
// this was; until it exists the fallback below (Server header only, no block
// page or challenge detection) is used. Switch to the static import
//   export { fingerprint } from "../fingerprint/match.js";
// once it lands.

import { contentEvidence } from "../evidence/content/index.js";
import { evidenceFromExchange } from "../evidence/exchange/index.js";
import type { Evidence, RequestModel, Responder, ResponseModel } from "../model.js";
import { decide } from "../verdict/decide.js";

export { contentEvidence, decide, evidenceFromExchange };

export interface FingerprintResult {
  responder: Responder;
  matches: unknown;
  evidence: Evidence[];
  blockPage: boolean;
  challenge: boolean;
}
export type FingerprintFn = (response: ResponseModel, request?: RequestModel) => FingerprintResult;

function fallbackFingerprint(response: ResponseModel): FingerprintResult {
  const server = response.headers.find(([n]) => n.toLowerCase() === "server")?.[1] ?? null;
  const product = server ? (/^[a-z-]+/i.exec(server)?.[0]?.toLowerCase() ?? null) : null;
  return {
    responder: { layer: "unknown", product, evidence: server ? [`Server: ${server}`] : [] },
    matches: [],
    evidence: [],
    blockPage: false,
    challenge: false,
  };
}

async function optionalModule<T>(specifier: string): Promise<T | null> {
  try {
    return (await import(specifier)) as T;
  } catch {
    return null;
  }
}

// A variable specifier keeps tsc and the bundler from requiring the file now.
const FINGERPRINT_MODULE = "../fingerprint/match.js";
const loaded = await optionalModule<{ fingerprint?: FingerprintFn }>(FINGERPRINT_MODULE);

export const fingerprint: FingerprintFn = loaded?.fingerprint ?? fallbackFingerprint;
