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

/** HAProxy 2.6 in front of apps.node (ACL on /internal, stick-table 429 on /api/burst). */
export interface LabHaproxy {
  url: string;
  port: number;
  /** HAProxy's httplog lines (its stdout and stderr). */
  log: string;
  conf: string;
}

/** Squid 5.7 as a forward proxy: use as `curl -x <url>`; lets through only apps.node's port. */
export interface LabSquid {
  url: string;
  port: number;
  /** Native squid access log (`TCP_DENIED/403 …`). */
  accessLog: string;
  cacheLog: string;
  conf: string;
}

/** Caddy 2.6 in front of apps.node (`respond 403` on path and method matchers). */
export interface LabCaddy {
  url: string;
  port: number;
  /** JSON access log. */
  accessLog: string;
  /** Caddy's own stdout/stderr. */
  log: string;
  conf: string;
}

/** A Python app (Django runserver / Flask werkzeug) with its own ledger. */
export interface LabPyApp {
  url: string;
  port: number;
  /** GET this for { count, entries } of POSTs the app executed. */
  ledgerUrl: string;
  /** The server's stdout and stderr (request lines, refusal warnings). */
  log: string;
}

/**
 * Apps that route every path into their code (lab/apps/node/catchall.mjs), each counting
 * every execution on any path. GET ledgerUrl → { front, graphql, express, override }:
 * each { count, entries: [{ seq, reqId, method, path, … }] }.
 */
export interface LabCatchall {
  ledgerUrl: string;
  /** Front controller (acts on `action` from query or form body), direct. Behind Apache+CRS and nginx as host frontHost. */
  front: string;
  /** GraphQL-style catch-all (acts on any mutation POST), direct. Behind nginx+ModSecurity v3 as host graphqlHost. */
  graphql: string;
  /** Express app.all('*'): acts on any non-safe method; refuses a foreign Origin. */
  express: string;
  /** Method override on any method (X-HTTP-Method-Override, _method); needs Bearer lab-good-token. */
  override: string;
  frontHost: string;
  graphqlHost: string;
}

export interface LabInfo {
  runDir: string;
  nginx: LabServer;
  apache: LabServer; // Apache 2.4 + mod_security2 + OWASP CRS, reverse-proxying to apps.node
  haproxy: LabHaproxy;
  squid: LabSquid;
  caddy: LabCaddy;
  /** A second nginx with ModSecurity v3 (libmodsecurity 3.0.9) + OWASP CRS 3.3, in front of apps.node. */
  nginxModsec: LabServer;
  apps: { node: LabApp; django: LabPyApp; flask: LabPyApp };
  catchall: LabCatchall;
}

/** Environment variable naming the lab.json of the current test run. */
export const LAB_JSON_ENV = "WHY403_LAB_JSON";

export function labFile(root = process.cwd()): string {
  return process.env[LAB_JSON_ENV] || join(root, ".run", "lab.json");
}

export function getLab(root = process.cwd()): LabInfo {
  return JSON.parse(readFileSync(labFile(root), "utf8")) as LabInfo;
}
