// Requests seen as trees of removable fragments: a location group (body,
// query, cookies, headers) holds members (JSON members and array elements,
// form fields, parts, lines, parameters, cookies, headers), which may hold
// more. A Selection says which nodes are removed and which leaf texts are
// replaced; every format renders a Selection back into bytes.

import type { TriggerLocation } from "../model.js";

export interface FragmentNode {
  id: number;
  location: TriggerLocation;
  /** JSON path, field, part, header, cookie or parameter name; null for groups and lines. */
  name: string | null;
  /** Text of a leaf that can be shortened further; absent for groups and non-text leaves. */
  value?: string;
  /** A field sent without `=` (`?debug`, a body of bare text): its value is its name. */
  valueIsName?: boolean;
  children: FragmentNode[];
}

export interface Selection {
  removed: ReadonlySet<number>;
  overrides: ReadonlyMap<number, string>;
}

export const EMPTY_SELECTION: Selection = { removed: new Set(), overrides: new Map() };

/** Hands out node ids unique within one request tree. */
export class NodeFactory {
  private next = 1;
  node(
    location: TriggerLocation,
    name: string | null,
    value?: string,
    children: FragmentNode[] = [],
  ): FragmentNode {
    const n: FragmentNode = { id: this.next++, location, name, children };
    if (value !== undefined) n.value = value;
    return n;
  }
}

export function isKept(node: FragmentNode, sel: Selection): boolean {
  return !sel.removed.has(node.id);
}

/** The text a leaf renders with under a selection. */
export function leafText(node: FragmentNode, sel: Selection, original: string): string {
  return sel.overrides.get(node.id) ?? original;
}

export function withRemoved(sel: Selection, ids: Iterable<number>): Selection {
  const removed = new Set(sel.removed);
  for (const id of ids) removed.add(id);
  return { removed, overrides: sel.overrides };
}

export function withOverride(sel: Selection, id: number, text: string): Selection {
  const overrides = new Map(sel.overrides);
  overrides.set(id, text);
  return { removed: sel.removed, overrides };
}

/** The kept leaves (nodes without kept children) under `node`, groups excluded when empty. */
export function keptLeaves(node: FragmentNode, sel: Selection): FragmentNode[] {
  if (!isKept(node, sel)) return [];
  const kids = node.children.filter((c) => isKept(c, sel));
  if (kids.length === 0) return node.children.length === 0 ? [node] : [];
  return kids.flatMap((k) => keptLeaves(k, sel));
}
