// Content-Encoding decoding with an output cap, so a small compressed body
// cannot expand into gigabytes (decompression bombs). Partial input (a body
// cut at the byte cap) decodes as far as it goes.

import type { Transform } from "node:stream";
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from "node:zlib";

export interface DecodedBody {
  body: Buffer;
  /** The output cap was reached. */
  truncated: boolean;
  /** False when the encoding was unknown or the data did not decode (the raw bytes are returned). */
  decoded: boolean;
}

function decoderFor(encoding: string, zlibHeader: boolean): Transform | null {
  switch (encoding) {
    case "gzip":
    case "x-gzip":
      return createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
    case "deflate":
      // Some servers send raw deflate under "deflate"; the zlib header starts with 0x78.
      return zlibHeader
        ? createInflate({ finishFlush: constants.Z_SYNC_FLUSH })
        : createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH });
    case "br":
      return createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH });
    default:
      return null;
  }
}

function decodeOne(input: Buffer, encoding: string, maxBytes: number): Promise<DecodedBody> {
  const decoder = decoderFor(encoding, input[0] === 0x78);
  if (!decoder) return Promise.resolve({ body: input, truncated: false, decoded: false });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (truncated: boolean, failed: boolean) => {
      if (settled) return;
      settled = true;
      decoder.removeAllListeners("data");
      decoder.destroy();
      if (failed && size === 0) resolve({ body: input, truncated: false, decoded: false });
      else resolve({ body: Buffer.concat(chunks), truncated, decoded: true });
    };
    decoder.on("data", (chunk: Buffer) => {
      const room = maxBytes - size;
      if (chunk.length >= room) {
        chunks.push(chunk.subarray(0, room));
        size += room;
        finish(true, false);
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    });
    decoder.on("error", () => finish(false, true));
    decoder.on("end", () => finish(false, false));
    decoder.end(input);
  });
}

/** Decodes a body per its Content-Encoding list (applied in order, so decoded in reverse). */
export async function decodeBody(
  input: Buffer,
  contentEncoding: string | null,
  maxBytes: number,
): Promise<DecodedBody> {
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "" && e !== "identity");
  let current: DecodedBody = { body: input, truncated: false, decoded: encodings.length === 0 };
  for (const encoding of encodings.reverse()) {
    const next = await decodeOne(current.body, encoding, maxBytes);
    if (!next.decoded) return { body: current.body, truncated: current.truncated, decoded: false };
    current = { body: next.body, truncated: current.truncated || next.truncated, decoded: true };
  }
  return current;
}
