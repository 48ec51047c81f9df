// How tests reach the real-server lab started once per run by test/global-setup.ts.
// The setup writes the run's lab.json and points WHY403_LAB_JSON at it (several test
// runs may share the checkout); .run/lab.json is the fallback written by the latest
// start (global setup or `node lab/start.mjs`). Tests read it with getLab().
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface LabServer {
  /** Base URL on 127.0.0.1, e.g. http://127.0.0.1:18080 */
  url: string;
  port: number;
  /** Host header the scenarios expect (server_name / ServerName), e.g. "lab.test". */
  host: string;
  /** Absolute paths of the server's own logs and main config. */
  accessLog: string;
  errorLog: string;
  auditLog?: string;
  conf: string;
  /** nginx only: the document root (holds static/docs/ and private/secret.txt). */
  root?: string;
}

export interface LabApp {
  url: string;
  port: number;
  /** GET this to read the JSON ledger of executed state-changing requests: { count, entries } */
  ledgerUrl: string;
  /** GET this for lab JWTs: { readOnly, write, expired } (HS256, scope claim). */
  tokensUrl: string;
  /** JSON-lines application log written by the app. */
  log: string;
}

export interface LabInfo {
  runDir: string;
  nginx: LabServer;
  apache: LabServer; // Apache 2.4 + mod_security2 + OWASP CRS, reverse-proxying to apps.node
  apps: { node: LabApp };
}

/** Environment variable naming the lab.json of the current test run. */
export const LAB_JSON_ENV = "WHY403_LAB_JSON";

export function labFile(root = process.cwd()): string {
  return process.env[LAB_JSON_ENV] || join(root, ".run", "lab.json");
}

export function getLab(root = process.cwd()): LabInfo {
  return JSON.parse(readFileSync(labFile(root), "utf8")) as LabInfo;
}
