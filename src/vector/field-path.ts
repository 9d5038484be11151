/**
 * Vector's target-path syntax for a source's field options (`pod_annotation_fields.pod_namespace: "k8s.ns"`), and
 * the same path written back as VRL.
 *
 * Invariants:
 * - `parseTargetPath` accepts the subset of Vector's path grammar that names one plain field: an optional leading `.`
 *   (or `%` for event metadata), then segments separated by `.`, each bare (`[A-Za-z0-9_@-]+`) or double-quoted with
 *   `\"` and `\\` escapes. Anything else (indexes, coalescing, an empty segment) is `undefined`: the caller must then
 *   not rely on where the field lands.
 * - `vrlPath` writes a segment bare only when VRL reads it bare (an identifier); every other segment is quoted, so the
 *   text addresses exactly the parsed field. The default `kubernetes.pod_namespace` renders as
 *   `.kubernetes.pod_namespace`, byte for byte what kaasops writes.
 */

export interface FieldPath {
  /** `%…`: event metadata, otherwise the event itself. */
  readonly metadata: boolean;
  readonly segments: readonly string[];
}

const BARE = /^[A-Za-z0-9_@-]+/;

/** Parses a quoted segment starting at `text[i] === '"'`; returns the segment and the index after its closing quote. */
function quotedSegment(text: string, i: number): [string, number] | undefined {
  let out = '';
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j] as string;
    if (c === '"') return out === '' ? undefined : [out, j + 1];
    if (c === '\\') {
      const n = text[++j];
      if (n !== '"' && n !== '\\') return undefined;
      out += n;
    } else out += c;
  }
  return undefined;
}

export function parseTargetPath(text: string): FieldPath | undefined {
  let i = 0;
  const metadata = text.startsWith('%');
  if (metadata || text.startsWith('.')) i = 1;
  const segments: string[] = [];
  while (i < text.length) {
    let seg: string;
    if (text[i] === '"') {
      const q = quotedSegment(text, i);
      if (q === undefined) return undefined;
      [seg, i] = q;
    } else {
      const m = BARE.exec(text.slice(i));
      if (m === null) return undefined;
      seg = m[0];
      i += seg.length;
    }
    segments.push(seg);
    if (i === text.length) break;
    if (text[i] !== '.' || i + 1 === text.length) return undefined;
    i++;
  }
  if (segments.length === 0) return undefined;
  return { metadata, segments };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function vrlSegment(seg: string): string {
  return IDENTIFIER.test(seg) ? seg : `"${seg.replace(/[\\"]/g, '\\$&')}"`;
}

export function vrlPath(path: FieldPath): string {
  return (path.metadata ? '%' : '.') + path.segments.map(vrlSegment).join('.');
}
