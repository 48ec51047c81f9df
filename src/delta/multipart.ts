// multipart/form-data bodies: one leaf per part, named by its field name; a
// text part's content is shortenable. Bytes are handled as latin1 so binary
// parts pass through untouched.

import type { FormatTree } from "./json.js";
import { isKept, NodeFactory, type Selection } from "./tree.js";

export function boundaryOf(contentType: string): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/** Null when the body does not split on the boundary. */
export function multipartTree(
  body: Buffer,
  boundary: string,
  factory: NodeFactory = new NodeFactory(),
): FormatTree | null {
  const text = body.toString("latin1");
  const delimiter = `--${boundary}`;
  const sections = text.split(delimiter);
  if (sections.length < 3) return null;
  const parts = sections.slice(1, -1).map((section) => {
    // Each section: CRLF headers CRLF CRLF content CRLF
    const s = section.replace(/^\r?\n/, "").replace(/\r?\n$/, "");
    const sep = s.search(/\r?\n\r?\n/);
    const head = sep >= 0 ? s.slice(0, sep) : s;
    const content = sep >= 0 ? s.slice(sep).replace(/^\r?\n\r?\n/, "") : "";
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? null;
    const isFile = /filename=/i.test(head);
    const utf8 = Buffer.from(content, "latin1").toString("utf8");
    const textLike = !isFile || /content-type:\s*text\//i.test(head);
    const shortenable = textLike && Buffer.from(utf8, "utf8").toString("latin1") === content;
    return { node: factory.node("body", name, shortenable ? utf8 : undefined), head, content };
  });
  const root = factory.node(
    "body",
    null,
    undefined,
    parts.map((p) => p.node),
  );
  return {
    root,
    render(sel: Selection): string {
      const kept = parts.filter((p) => isKept(p.node, sel));
      let out = "";
      for (const p of kept) {
        const override = sel.overrides.get(p.node.id);
        const content = override === undefined ? p.content : Buffer.from(override, "utf8").toString("latin1");
        out += `${delimiter}\r\n${p.head}\r\n\r\n${content}\r\n`;
      }
      return `${out}${delimiter}--\r\n`;
    },
  };
}
