/**
 * The deleted-pod fallback (`optimizedFallback-<gid>`, docs/config-optimization.md) is the one addition to the config
 * kaasops renders. Golden files hold kaasops' bytes; tests compare the rest of our output to them byte for byte and
 * check the fallback on its own.
 */
import { goJson } from '../../src/pipelines/gojson.ts';

const isFallback = (id: string): boolean => id.startsWith('optimizedFallback-');

type Json = Record<string, Record<string, { inputs?: string[] }> | undefined>;

/** The config text without the fallback routes and without their outputs in any `inputs`. */
export function withoutFallback(json: string): string {
  const cfg = JSON.parse(json) as Json;
  const transforms = cfg.transforms ?? {};
  for (const id of Object.keys(transforms)) if (isFallback(id)) Reflect.deleteProperty(transforms, id);
  for (const kind of ['transforms', 'sinks']) {
    for (const c of Object.values(cfg[kind] ?? {})) {
      if (Array.isArray(c.inputs)) c.inputs = c.inputs.filter((i) => !isFallback(i));
    }
  }
  return goJson(cfg);
}

/** Fallback route ids in a config text. */
export function fallbackIds(json: string): string[] {
  const cfg = JSON.parse(json) as Json;
  return Object.keys(cfg.transforms ?? {}).filter(isFallback);
}
