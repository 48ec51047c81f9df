// Plain text, XML and other textual bodies: one leaf per line; each line's
// tokens and characters are shortened afterwards.

import type { FormatTree } from "./json.js";
import { isKept, leafText, NodeFactory, type Selection } from "./tree.js";

export function textTree(text: string, factory: NodeFactory = new NodeFactory()): FormatTree {
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text
    .split(newline)
    .map((line, i) => ({ node: factory.node("body", `line ${i + 1}`, line), line }));
  const root = factory.node(
    "body",
    null,
    undefined,
    lines.map((l) => l.node),
  );
  return {
    root,
    render: (sel: Selection) =>
      lines
        .filter((l) => isKept(l.node, sel))
        .map((l) => leafText(l.node, sel, l.line))
        .join(newline),
  };
}
