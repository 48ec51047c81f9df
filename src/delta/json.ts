// JSON bodies as fragment trees: object members and array elements, each
// named by its JSON path ($.a.b[2].c). Strings are leaves whose text can be
// shortened further.

import { jsonTooDeep } from "../json-depth.js";
import { type FragmentNode, isKept, leafText, NodeFactory, type Selection } from "./tree.js";

export interface FormatTree {
  root: FragmentNode;
  render(sel: Selection): string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function jsonPathChild(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

interface Bound {
  node: FragmentNode;
  value: unknown;
  key: string | number | null;
  kids: Bound[];
}

/** Null when the text is not JSON. */
export function jsonTree(text: string, factory: NodeFactory = new NodeFactory()): FormatTree | null {
  // Too deep to walk recursively: the caller falls back to a text tree.
  if (jsonTooDeep(text)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const bind = (value: unknown, path: string, key: string | number | null): Bound => {
    if (Array.isArray(value) || (value !== null && typeof value === "object")) {
      const kids = Array.isArray(value)
        ? value.map((v, i) => bind(v, jsonPathChild(path, i), i))
        : Object.entries(value as Record<string, unknown>).map(([k, v]) =>
            bind(v, jsonPathChild(path, k), k),
          );
      return {
        node: factory.node(
          "body",
          path,
          undefined,
          kids.map((k) => k.node),
        ),
        value,
        key,
        kids,
      };
    }
    const text = typeof value === "string" ? value : undefined;
    return { node: factory.node("body", path, text), value, key, kids: [] };
  };
  const root = bind(parsed, "$", null);
  const build = (b: Bound, sel: Selection): unknown => {
    if (Array.isArray(b.value)) return b.kids.filter((k) => isKept(k.node, sel)).map((k) => build(k, sel));
    if (b.value !== null && typeof b.value === "object") {
      const out: Record<string, unknown> = {};
      for (const k of b.kids) if (isKept(k.node, sel)) out[k.key as string] = build(k, sel);
      return out;
    }
    if (typeof b.value === "string") return leafText(b.node, sel, b.value);
    return b.value;
  };
  return { root: root.node, render: (sel) => JSON.stringify(build(root, sel)) };
}
