// application/x-www-form-urlencoded bodies and query strings: one leaf per
// field, its decoded value shortenable. Untouched fields keep their raw bytes.

import type { TriggerLocation } from "../model.js";
import type { FormatTree } from "./json.js";
import { type FragmentNode, isKept, NodeFactory, type Selection } from "./tree.js";

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

function encodeFormValue(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, "+");
}

export function formTree(
  text: string,
  location: TriggerLocation,
  factory: NodeFactory = new NodeFactory(),
): FormatTree {
  const pairs = text.split("&").filter((p) => p !== "");
  const fields = pairs.map((raw) => {
    const eq = raw.indexOf("=");
    const rawName = eq >= 0 ? raw.slice(0, eq) : raw;
    const rawValue = eq >= 0 ? raw.slice(eq + 1) : null;
    const name = decodeComponent(rawName);
    // A field without `=` is all name: its text is what a rule can match, so it is
    // the value the search shortens, and it renders back without `=`.
    const node = factory.node(location, name, rawValue === null ? name : decodeComponent(rawValue));
    if (rawValue === null) node.valueIsName = true;
    return { node, raw, rawName };
  });
  const root: FragmentNode = factory.node(
    location,
    null,
    undefined,
    fields.map((f) => f.node),
  );
  return {
    root,
    render(sel: Selection): string {
      return fields
        .filter((f) => isKept(f.node, sel))
        .map((f) => {
          const override = sel.overrides.get(f.node.id);
          if (override === undefined) return f.raw;
          return f.node.valueIsName ? encodeFormValue(override) : `${f.rawName}=${encodeFormValue(override)}`;
        })
        .join("&");
    },
  };
}
