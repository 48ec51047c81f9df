// mod_authz_core's tree of Require lines: <RequireAll>/<RequireAny>/<RequireNone>
// containers and the <Limit>/<LimitExcept> method masks around them.

import type { ConfigContext } from "../../config-decision.js";
import type { ApacheDirective, ApacheNode, ApacheSection } from "../parser.js";
import {
  type AuthzContainer,
  type AuthzNode,
  type AuthzProvider,
  type BuildContext,
  contextOf,
  type DirConf,
  type MethodMask,
  methodNumber,
  ref,
} from "./types.js";

export function limitMask(section: ApacheSection, outer: MethodMask): MethodMask {
  const listed = new Set(section.args.map(methodNumber));
  const except = section.name.toLowerCase() === "limitexcept";
  return (m) => outer(m) && (except ? !listed.has(methodNumber(m)) : listed.has(methodNumber(m)));
}

export function buildContainer(section: ApacheSection, ctx: BuildContext): AuthzContainer {
  const lname = section.name.toLowerCase();
  const container: AuthzContainer = {
    kind: "container",
    op: lname === "requireall" ? "and" : "or",
    negate: lname === "requirenone",
    limited: () => false,
    children: [],
    ref: ref(section),
    owner: ctx.owner,
  };
  const add = (child: AuthzNode): void => {
    container.children.push(child);
    const before = container.limited;
    container.limited = (m) => before(m) || child.limited(m);
  };
  const visit = (nodes: ApacheNode[], limited: MethodMask, limit: ConfigContext | null): void => {
    for (const n of nodes) {
      if (n.kind === "section") {
        const ln = n.name.toLowerCase();
        if (ln === "requireall" || ln === "requireany" || ln === "requirenone")
          add(buildContainer(n, { ...ctx, limited, limit }));
        else if (ln === "limit" || ln === "limitexcept")
          visit(n.children, limitMask(n, limited), contextOf(n));
        continue;
      }
      if (n.name.toLowerCase() === "require") add(provider(n, { ...ctx, limited, limit }));
    }
  };
  visit(section.children, ctx.limited, ctx.limit ?? null);
  return container;
}

export function provider(d: ApacheDirective, ctx: BuildContext): AuthzProvider {
  let args = d.args;
  let negate = false;
  if ((args[0] ?? "").toLowerCase() === "not") {
    negate = true;
    args = args.slice(1);
  }
  const raw = (d.raw ?? d.args.join(" ")).replace(/^\s*not\s+/i, "").replace(/^\s*\S+\s*/, "");
  return {
    kind: "provider",
    rawArgs: raw,
    provider: (args[0] ?? "").toLowerCase(),
    args: args.slice(1),
    negate,
    limited: ctx.limited,
    ref: ref(d),
    owner: ctx.owner,
    limit: ctx.limit ?? null,
  };
}

export function addToAuthz(conf: DirConf, node: AuthzNode, ctx: BuildContext): void {
  if (!conf.authz) conf.authz = { section: null, op: "unset" };
  if (!conf.authz.section) {
    conf.authz.section = {
      kind: "container",
      op: "or",
      negate: false,
      limited: () => false,
      children: [],
      ref: null,
      owner: ctx.owner,
    };
  }
  const section = conf.authz.section;
  section.children.push(node);
  const before = section.limited;
  section.limited = (m) => before(m) || node.limited(m);
}
