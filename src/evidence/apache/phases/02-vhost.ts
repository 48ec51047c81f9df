// Phase 2, post_read_request: the server that answers — the <VirtualHost>
// chosen by address, port and name (vhost.ts), else the main server — and the
// server-wide settings the later phases read from it.

import type { ApacheConfig } from "../parser.js";
import { selectVirtualHost } from "../vhost.js";
import type { ServerScope } from "../walk.js";
import { lastArg, type ParsedRequest } from "./state.js";

export interface ServerChoice {
  scope: ServerScope;
  /** Why another vhost might answer instead (the server's own address is not known). */
  notes: string[];
  /** AccessFileName: the per-directory file the walk reads (.htaccess). */
  accessFileName: string;
  /** Whether mod_autoindex can list a directory (always, for a config that loads no modules itself). */
  autoindexLoaded: boolean;
}

export function chooseServer(config: ApacheConfig, parsed: ParsedRequest): ServerChoice {
  const vsel = selectVirtualHost(config.nodes, parsed.host, parsed.port);
  const scope: ServerScope = { main: config.nodes, vhost: vsel.vhost };
  return {
    scope,
    notes: vsel.notes,
    accessFileName:
      lastArg([...config.nodes, ...(scope.vhost?.children ?? [])], "accessfilename") ?? ".htaccess",
    autoindexLoaded: !config.loadsModules || config.modules.includes("autoindex_module"),
  };
}
