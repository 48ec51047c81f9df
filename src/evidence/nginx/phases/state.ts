// What nginx's phases hand each other while one request walks through them:
// the request, the chosen server, the current URI and the levels (http,
// server, locations) whose directives apply, plus the sentences gathered on
// the way. Each phase reads and updates one NginxRequestState.

import type { ConfigContext, ConfigDecision, ConfigRequest, DirectiveRef } from "../../config-decision.js";
import { type LocationSpec, locationLabel, parseLocation } from "../location-select.js";
import type { Directive, NginxConfig } from "../parser.js";
import type { RequestTarget } from "../uri.js";
import { type RequestFacts, Variables } from "../variables.js";

export interface NginxDecision extends ConfigDecision {
  /** Extension: the file the request maps to through root/alias, when static content answers. */
  filePath?: string | null;
  /** Extension: how the server and location were chosen. */
  matched?: MatchedBlocks;
}

export interface MatchedBlocks {
  server: string;
  location: string | null;
}

/**
 * What a phase tells the driver: go on to the next phase, the decision is
 * set (the driver concludes it), or the URI changed internally and the
 * location search starts again.
 */
export type PhaseResult = "next" | "decided" | "internal-redirect";

/** The location the find-config phase chose, with what it found in it. */
export interface ChosenLocation {
  /** The innermost matching location; undefined when the server level answers. */
  final: LocationSpec | undefined;
  /** The directives of that location (empty without one). */
  block: Directive[];
  /** The `limit_except` whose block applies because it does not list the method. */
  limitedBy: Directive | null;
}

export class NginxRequestState {
  /** Sentences added to the decision after those about unknown directives (see conclude). */
  readonly unknowns: string[] = [];
  /** Fixes added to the decision when it is concluded. */
  readonly fix: string[] = [];
  /** An `if` whose condition we could not decide but which could answer on its own. */
  uncertainIf: { directive: Directive; returnsRefusal: boolean } | null = null;
  /** The last `if` block whose condition held (its config answers the content phase). */
  ifBlock: Directive | null = null;
  /** The levels whose directives apply now: http, server, the chosen locations, limit_except. */
  levels: Directive[] = [];
  location: ChosenLocation = { final: undefined, block: [], limitedBy: null };
  /** A location regex we could not evaluate: a different location might answer. */
  locationUncertain = false;
  /**
   * True when the answer comes before any module's access or content handler
   * could act: a `return` or rewrite, `internal`, or an allow/deny or
   * auth_basic refusal under `satisfy all`.
   */
  firm = false;
  /** The URI was changed inside nginx (rewrite … last, index): `internal;` locations are reachable. */
  internalRedirect = false;
  query: string;
  readonly vars: Variables;
  private currentUri: string;

  constructor(
    readonly config: NginxConfig,
    readonly request: ConfigRequest,
    readonly method: string,
    readonly target: RequestTarget,
    readonly decision: NginxDecision & { matched: MatchedBlocks },
    readonly http: Directive | null,
    readonly server: Directive,
    facts: RequestFacts,
    mapBlocks: Directive[],
  ) {
    this.currentUri = facts.uri;
    this.query = target.query;
    this.vars = new Variables(facts, mapBlocks, () => innermost(this.levels, "valid_referers"));
  }

  get uri(): string {
    return this.currentUri;
  }

  /** A new URI for the request, as the variables ($uri) see it too. */
  setUri(uri: string): void {
    this.currentUri = uri;
    this.vars.facts.uri = uri;
  }

  /** The contexts of the http and server blocks, which every decision names. */
  baseContext(): ConfigContext[] {
    return [...(this.http ? [contextOf(this.http)] : []), contextOf(this.server)];
  }
}

export const ref = (d: Directive): DirectiveRef => ({
  directive: d.directive,
  args: d.args,
  file: d.file,
  line: d.line,
});
export const at = (d: Directive): string => `${d.file}:${d.line}`;
export const show = (d: Directive): string => `\`${[d.directive, ...d.args].join(" ")}\``;

export function contextOf(d: Directive): ConfigContext {
  const c: ConfigContext = { block: d.directive, file: d.file, line: d.line };
  if (d.args.length > 0) c.args = d.args;
  return c;
}

/** The innermost level that holds `name`, searching the levels innermost first. */
export function innermost(levels: Directive[], name: string): Directive | null {
  for (let i = levels.length - 1; i >= 0; i--) {
    const hit = (levels[i]?.block ?? []).filter((d) => d.directive === name);
    if (hit.length > 0) return hit[hit.length - 1] as Directive;
  }
  return null;
}

/** The block a rule sits in, as the config spells it, with file:line. */
export function blockName(d: Directive): string {
  const label =
    d.directive === "location" ? locationLabel(parseLocation(d)) : [d.directive, ...d.args].join(" ");
  return `\`${label}\` at ${at(d)}`;
}
