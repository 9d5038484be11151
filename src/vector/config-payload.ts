/**
 * The bytes of an `agent.json` payload as it sits in a Secret or a mounted file: JSON text, or gzip of it when the
 * Vector sets `compressConfigFile` (kaasops' config-reloader unpacks it for the agent; nothing unpacks the standby
 * Secret the merger reads).
 *
 * Invariants:
 * - A payload is gzip exactly when it starts with gzip's magic bytes 1f 8b. JSON text never does: 0x1f is a control
 *   character, which JSON allows neither as whitespace nor outside a string.
 * - zlib is loaded only for a gzip payload: the merger reads its configs on every agent start, and loading zlib costs
 *   it ~3 ms.
 */

/** A generous bound on an unpacked config: a Secret holds at most 1 MiB, and JSON configs compress ~10–30x. */
const MAX_CONFIG_BYTES = 256 * 1024 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The config text of a payload, unpacked when gzip. Throws on a corrupt gzip or one that unpacks past `maxBytes`. */
export function configPayloadText(bytes: Buffer, maxBytes = MAX_CONFIG_BYTES): string {
  if (!isGzip(bytes)) return bytes.toString('utf8');
  const { gunzipSync } = process.getBuiltinModule('node:zlib');
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    throw new Error(`gzip payload does not unpack: ${(err as Error).message}`, { cause: err });
  }
}
