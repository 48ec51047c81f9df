// The fingerprint result type under its old path: replay.ts still imports it
// from here. Nothing is injected through this file; import from the modules
// themselves (fingerprint/match, evidence/*, verdict/decide).
export type { FingerprintResult } from "../fingerprint/match.js";
