// Before the phases: nginx picks the server block by the port (and address)
// the request came in on and its Host, and normalises the URI. Neither is a
// phase in nginx (ngx_http_find_virtual_server and ngx_http_parse_complex_uri
// run while the request header is read); a failure here answers at once.

import { isIP } from "node:net";
import { InputError } from "../../../errors.js";
import { type ConfigRequest, newDecision } from "../../config-decision.js";
import type { Directive, NginxConfig } from "../parser.js";
import { selectServer } from "../server-select.js";
import { normalizeUri, splitRequestUrl } from "../uri.js";
import { at, contextOf, type MatchedBlocks, type NginxDecision, NginxRequestState } from "./state.js";

/** The host nginx matches against server_name: the Host header, else the URL's host. */
function hostOf(request: ConfigRequest, urlHost: string): string {
  const h = request.headers?.host;
  const raw = h !== undefined ? h : urlHost;
  return raw
    .trim()
    .toLowerCase()
    .replace(/^\[([^\]]*)\](:\d+)?$/, "$1")
    .replace(/:\d+$/, "")
    .replace(/\.$/, "");
}

/**
 * The state the phases start from, or the finished decision when no server
 * listens on the port or the path climbs above the root.
 */
export function findVirtualServer(
  config: NginxConfig,
  request: ConfigRequest,
): NginxRequestState | NginxDecision {
  const target = splitRequestUrl(request.url);
  if (!target) throw new InputError(`not an absolute http(s) URL: ${request.url}`);
  const method = request.method.toUpperCase();
  const decision: NginxDecision = newDecision(request, method, "allow");

  const http = config.directives.find((d) => d.directive === "http") ?? null;
  const top: Directive[] = http?.block ?? config.directives;
  const servers = top.filter((d) => d.directive === "server" && d.block);
  if (servers.length === 0) throw new InputError(`no server block in ${config.file}`);
  const host = hostOf(request, target.host);
  const localAddress = isIP(target.host) ? target.host : target.host === "localhost" ? "127.0.0.1" : null;
  const choice = selectServer(servers, target.port, localAddress, host);
  if (!choice) {
    decision.decision = "unknown";
    decision.unknowns.push(`no server block listens on port ${target.port}`);
    return decision;
  }
  const server = choice.server;
  const serverNames = (server.block ?? [])
    .filter((d) => d.directive === "server_name")
    .flatMap((d) => d.args);
  const matched: MatchedBlocks = { server: `${at(server)} (${choice.how})`, location: null };
  decision.matched = matched;

  const uri = normalizeUri(target.rawPath);
  decision.context = [...(http ? [contextOf(http)] : []), contextOf(server)];
  if (uri === null) {
    decision.decision = "deny";
    decision.status = 400;
    decision.cause = "server-config";
    decision.unknowns.push(`the path ${target.rawPath} climbs above the root; nginx answers 400`);
    return decision;
  }

  const mapBlocks = top.filter((d) => (d.directive === "map" || d.directive === "geo") && d.block);
  const facts = {
    method,
    uri,
    rawPath: target.rawPath,
    query: target.query,
    host,
    scheme: target.scheme,
    port: target.port,
    client: request.client,
    headers: request.headers,
    serverNames,
  };
  return new NginxRequestState(
    config,
    request,
    method,
    target,
    decision as NginxDecision & { matched: MatchedBlocks },
    http,
    server,
    facts,
    mapBlocks,
  );
}
