/**
 * Source signatures and group ids for config optimization.
 *
 * Invariants:
 * - The signature is byte-identical to kaasops': Go `json.Marshal` of the struct
 *   `{Type, ExtraLabelSelector, ExtraFieldSelector, UseApiServerCache, Options}` (declaration order), where Options
 *   holds every other key of the source except the namespace selector, or `null` when there is none.
 * - gid = `%08x` of CRC-32/IEEE over those bytes. It depends on the settings only, never on the namespaces, so adding
 *   or removing a pipeline does not rename the collapsed source (whose checkpoints are keyed by that name).
 */
import { crc32 } from 'node:zlib';
import type { SourceComponent } from '../vector/config.ts';
import { goJson, goStruct } from './gojson.ts';

const structFields = new Set([
  'type',
  'extra_namespace_label_selector',
  'extra_label_selector',
  'extra_field_selector',
  'use_apiserver_cache',
]);

export function sourceSignature(src: SourceComponent): string {
  let options: Record<string, unknown> | null = null;
  for (const key of Object.keys(src)) {
    if (structFields.has(key)) continue;
    options ??= {};
    options[key] = src[key];
  }
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return goJson(
    goStruct([
      ['Type', src.type],
      ['ExtraLabelSelector', str(src.extra_label_selector)],
      ['ExtraFieldSelector', str(src.extra_field_selector)],
      ['UseApiServerCache', src.use_apiserver_cache === true],
      ['Options', options],
    ]),
  );
}

export function groupId(signature: string): string {
  return crc32(Buffer.from(signature, 'utf8')).toString(16).padStart(8, '0');
}
