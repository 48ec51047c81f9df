// Builds the per-directory config of one section's children (or of a
// .htaccess, or of the server level): nested <Limit>, Require containers and
// <Files> are walked here; each directive goes to its handler in directives.ts.

import type { ConfigContext } from "../../config-decision.js";
import type { ApacheNode } from "../parser.js";
import { permitted } from "./allow-override.js";
import { applyDirective } from "./directives.js";
import { addToAuthz, buildContainer, limitMask } from "./require-tree.js";
import {
  ALL_METHODS,
  type BuildContext,
  contextOf,
  type DirConf,
  emptyDirConf,
  type RewriteCondDef,
  ref,
} from "./types.js";

/** Builds the per-directory config of one section's children (or of a .htaccess, or of server level). */
export function buildDirConf(
  nodes: ApacheNode[],
  opts: {
    perdir: string | null;
    owner: ConfigContext | null;
    htaccessAllowed?: Set<string> | null;
    origin: string;
  },
): DirConf {
  const conf = emptyDirConf();
  const ctx: BuildContext = {
    limited: ALL_METHODS,
    perdir: opts.perdir,
    owner: opts.owner,
    htaccessAllowed: opts.htaccessAllowed ?? null,
    origin: opts.origin,
  };
  const pendingConds: RewriteCondDef[] = [];
  walk(nodes, ctx, conf, pendingConds);
  return conf;
}

/** Sections inside a section: <Limit> narrows the methods, Require containers join the tree, <Files> wait for the file walk. */
function walk(nodes: ApacheNode[], ctx: BuildContext, conf: DirConf, pendingConds: RewriteCondDef[]): void {
  for (const node of nodes) {
    if (node.kind === "section") {
      const lname = node.name.toLowerCase();
      if (lname === "limit" || lname === "limitexcept") {
        walk(
          node.children,
          { ...ctx, limited: limitMask(node, ctx.limited), limit: contextOf(node) },
          conf,
          pendingConds,
        );
      } else if (lname === "requireall" || lname === "requireany" || lname === "requirenone") {
        if (!permitted(lname, ctx.htaccessAllowed)) {
          conf.notAllowed.push(ref(node));
          continue;
        }
        const container = buildContainer(node, ctx);
        addToAuthz(conf, container, ctx);
      } else if (lname === "files" || lname === "filesmatch") {
        conf.files.push({
          section: node,
          origin: ctx.origin,
          allowed: ctx.htaccessAllowed,
          perdir: ctx.perdir,
        });
      } else if (ctx.htaccessAllowed) {
        // <Directory>, <Location>, <VirtualHost> ... are not allowed in .htaccess
        conf.notAllowed.push(ref(node));
      }
      continue;
    }
    applyDirective(node, ctx, conf, pendingConds);
  }
}
