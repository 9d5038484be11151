/**
 * agent.json bytes: canonical JSON exactly as kaasops serializes it (yaml.v2 -> YAMLToJSON): compact, every object's
 * keys sorted, Go HTML escaping, float64 numbers. The same config always gives the same bytes, so a byte comparison
 * is a sound "unchanged" test (kaasops saw a CRC-32 collision, #278).
 */
import type { VectorConfig } from '../vector/config.ts';
import { goJson } from './gojson.ts';

export function serializeConfig(config: VectorConfig): string {
  return goJson(config);
}
