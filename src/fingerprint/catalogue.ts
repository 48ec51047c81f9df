// Every signature in signatures/, validated once. The list of files is generated
// (catalogue.generated.ts, by scripts/gen-catalogue.mjs) so adding a product is one
// JSON file plus its fixture; the bundler inlines the JSON, nothing is read at start-up.

import { RAW_SIGNATURES } from "./catalogue.generated.js";
import { parseSignature, type Signature } from "./signature-schema.js";

let parsed: Signature[] | undefined;

/** All signatures, validated once. Throws if a data file is malformed (a bug, not user input). */
export function loadCatalogue(): readonly Signature[] {
  if (!parsed) {
    parsed = RAW_SIGNATURES.map(([file, raw]) => {
      const sig = parseSignature(raw, `signatures/${file}.json`);
      if (sig.product !== file) throw new Error(`signatures/${file}.json declares product ${sig.product}`);
      return sig;
    });
  }
  return parsed;
}

let names: Map<string, string> | undefined;

/** How a sentence names a product: its signature's `shortName`, else its `name`; an unknown id as given. */
export function productName(product: string | null | undefined): string | null {
  if (!product) return null;
  names ??= new Map(loadCatalogue().map((s) => [s.product, s.shortName ?? s.name]));
  return names.get(product) ?? product;
}
