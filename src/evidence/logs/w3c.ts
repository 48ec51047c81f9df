// W3C extended log files whose `#Fields:` directive lists columns in an order of
// its own: IIS sites that log more or fewer fields than its default, CloudFront's
// standard logs (tab-separated). The directive names the columns of the lines
// after it, so the file is read with state: each line's values are mapped to
// the field names the data formats give a meaning (client, method, path, status,
// …) and then classified as an IIS line is (data/logs/messages/iis.json).
// IIS's default field order is left to the iis-w3c regex format, as before.
import { type CompiledFormat, compiledFormatOf, type Fields, formatById } from "./rules.js";

export const W3C_FORMAT = "w3c-fields";

/** W3C field names (lower-cased) → the record fields rules.ts gives a meaning. */
const MEANING: Record<string, string> = {
  "c-ip": "client",
  "cs-method": "method",
  "cs-uri-stem": "path",
  "cs-uri-query": "query",
  "sc-status": "status",
  "sc-substatus": "substatus",
  "cs-username": "user",
  "x-edge-request-id": "requestId",
};

/** The IIS-default list the iis-w3c format reads by position (its `#Fields:` example). */
export const IIS_DEFAULT = (formatById("w3c-header").spec.examples?.[0]?.line ?? "").replace(
  /^#Fields:\s*/,
  "",
);

/**
 * Lines with columns of their own: an access format (a refusal status is a
 * record), with IIS's status.substatus rules when the file says it is IIS's.
 */
function formatFor(product: string | null): CompiledFormat {
  const iis = formatById("iis-w3c").spec;
  return compiledFormatOf({
    id: W3C_FORMAT,
    product,
    kind: "access",
    description: "W3C extended log lines read by the columns of the #Fields: line above them",
    time: iis.time,
    messages: product === "iis" ? iis.messages : [],
  });
}
const FORMATS = new Map<string | null, CompiledFormat>();

export class W3cColumns {
  private names: string[] | null = null;
  private software: string | null = null;

  /** A `#Fields:` list other than IIS's default is in force. */
  get active(): boolean {
    return this.names !== null;
  }

  /** Takes a directive line (`#…`); later lines are read by the last `#Fields:`. */
  directive(text: string): void {
    if (text.startsWith("#Software:")) this.software = text.slice(10).trim();
    if (!text.startsWith("#Fields:")) return;
    const list = text.slice(8).trim();
    this.names = list === IIS_DEFAULT || list === "" ? null : list.split(/\s+/).map((n) => n.toLowerCase());
  }

  /** The line's fields by the columns in force, or null when its values do not fit them. */
  fields(text: string): { format: CompiledFormat; fields: Fields } | null {
    const names = this.names;
    if (names === null) return null;
    const values = text.split(names.length > 1 && text.includes("\t") ? "\t" : " ");
    if (values.length !== names.length) return null;
    const fields: Fields = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const value = values[i] as string;
      fields[name] = value;
      const meaning = MEANING[name];
      if (meaning !== undefined) fields[meaning] = value;
    }
    if (fields.date !== undefined && fields.time !== undefined) fields.time = `${fields.date} ${fields.time}`;
    else delete fields.time;
    return { format: this.format(names), fields };
  }

  /** The product the file itself names: IIS by its #Software directive, CloudFront by its x-edge-* columns. */
  private format(names: string[]): CompiledFormat {
    const product = /Internet Information Services/i.test(this.software ?? "")
      ? "iis"
      : names.includes("x-edge-location")
        ? "cloudfront"
        : null;
    let f = FORMATS.get(product);
    if (!f) {
      f = formatFor(product);
      FORMATS.set(product, f);
    }
    return f;
  }
}
