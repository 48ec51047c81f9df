// The one place where the investigator reaches the modules other parts of
// why403 provide (fingerprint, exchange and content evidence, verdict), so a
// test or a future replacement switches them here.

export { contentEvidence } from "../evidence/content/index.js";
export { evidenceFromExchange } from "../evidence/exchange/index.js";
export { type FingerprintResult, fingerprint } from "../fingerprint/match.js";
export { decide } from "../verdict/decide.js";
