// Comparing URLs the way the transport addresses them: scheme, host and port.

/** Two URLs on the same scheme, host and port; false when either does not parse. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
