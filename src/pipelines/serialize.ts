/**
 * agent.json bytes: canonical JSON exactly as kaasops serializes it (yaml.v2 -> YAMLToJSON): compact, every object's
 * keys sorted, Go HTML escaping, float64 numbers. The same config always gives the same bytes, so a byte comparison
 * is a sound "unchanged" test (kaasops saw a CRC-32 collision, #278).
 *
 * With a build cache, each component's text is taken from the cache (made once per component object): the bytes are
 * the same as without one.
 */
import { componentKinds, type VectorConfig } from '../vector/config.ts';
import type { BuildCache } from './build-cache.ts';
import { goJson, sortCodePoints } from './gojson.ts';

export function serializeConfig(config: VectorConfig, cache?: BuildCache): string {
  if (cache === undefined) return goJson(config);
  // Parts joined once: a string built by thousands of concatenations is a rope that gzip's Buffer.from must flatten.
  const members: string[] = [];
  const top = config as unknown as Record<string, unknown>;
  for (const key of sortCodePoints(Object.keys(top))) {
    const value = top[key];
    if (value === undefined) continue;
    if (!(componentKinds as readonly string[]).includes(key)) {
      members.push(`${goJson(key)}:${goJson(value)}`);
      continue;
    }
    const section = value as Record<string, object>;
    const parts = sortCodePoints(Object.keys(section)).map((id) => cache.entry(id, section[id] as object));
    members.push(`${goJson(key)}:{${parts.join(',')}}`);
  }
  return `{${members.join(',')}}`;
}
