// Header lists as HTTP reads them: names compare without case, order and
// duplicates are kept. The one home of these lookups for every layer.
import type { Header } from "./model.js";

/** The first value of a header, or null when absent. */
export function headerValue(headers: readonly Header[], name: string): string | null {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1] ?? null;
}

/** Every value of a header, in order (Set-Cookie, Vary …). */
export function headerValues(headers: readonly Header[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

export function hasHeader(headers: readonly Header[], name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([n]) => n.toLowerCase() === lower);
}

/** The list with the header replaced (appended last), or removed when `value` is null. */
export function setHeader(headers: readonly Header[], name: string, value: string | null): Header[] {
  const lower = name.toLowerCase();
  const out = headers.filter(([n]) => n.toLowerCase() !== lower);
  if (value !== null) out.push([name, value]);
  return out;
}

/** The list without the named headers. */
export function dropHeaders(headers: readonly Header[], names: string[]): Header[] {
  const drop = new Set(names.map((n) => n.toLowerCase()));
  return headers.filter(([n]) => !drop.has(n.toLowerCase()));
}
