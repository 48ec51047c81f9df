// Every bound why403 enforces, in one place.

/** Largest input file read (HAR, saved response, config). */
export const MAX_INPUT_FILE_BYTES = 256 * 1024 * 1024;
/** Largest response body kept from a live probe (the rest is discarded). */
export const MAX_RESPONSE_BODY_BYTES = 2 * 1024 * 1024;
/** Largest decoded body (after gzip/br/deflate), against decompression bombs. */
export const MAX_DECODED_BODY_BYTES = 4 * 1024 * 1024;
/** Largest response header block accepted. */
export const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;
/** Most response headers kept. */
export const MAX_RESPONSE_HEADERS = 500;
/** Default probe budget, the replay included (contract default). */
export const DEFAULT_MAX_PROBES = 30;
/**
 * Default bound on may-execute probes with --allow-side-effects (--max-unsafe):
 * enough for the CSRF and credential checks and a short trigger search on the
 * real path, few enough that the records they may create stay countable.
 */
export const DEFAULT_MAX_UNSAFE = 10;
/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Default pacing: at most this many requests per second. */
export const DEFAULT_RATE_PER_SECOND = 5;
/** Longest Retry-After we will wait for inside a run. */
export const MAX_RETRY_AFTER_WAIT_MS = 10_000;
/** Most redirects followed by hand. */
export const MAX_REDIRECTS = 10;
/** Longest single log line considered (longer lines are cut). */
export const MAX_LOG_LINE_BYTES = 64 * 1024;
/** Deepest include nesting in configs. */
export const MAX_INCLUDE_DEPTH = 32;
/** Longest body text searched by fingerprint body markers. */
export const MAX_FINGERPRINT_BODY_CHARS = 256 * 1024;
/** Deepest JSON nesting walked by recursive code (delta trees, evidence); deeper documents are treated as text. */
export const MAX_JSON_DEPTH = 256;
/** Most cells (identities × checks) one authorization matrix may hold. */
export const MAX_MATRIX_CELLS = 5000;
/** Default number of matrix cells in flight at once (the --rate pacing applies as well). */
export const DEFAULT_MATRIX_CONCURRENCY = 2;
/** Largest authorization matrix file read (a YAML parse holds the whole document in memory). */
export const MAX_MATRIX_FILE_BYTES = 4 * 1024 * 1024;
