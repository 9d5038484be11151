/**
 * The parts of one Vector's config build that the next build can reuse: each pipeline's compiled components and policy
 * verdict, each source's signature, each collapsed chunk's route layout, each rewired consumer, and each component's
 * serialized text. A pipeline change at 10 000 pipelines then compiles one pipeline and serializes a handful of
 * components instead of all of them.
 *
 * Invariants:
 * - A build with a cache returns exactly what the same build without one returns (same config, same bytes).
 * - Parts are keyed by what they are computed from: a compiled pipeline and its policy verdict by the pipeline's
 *   version (kind, namespace, name, uid and `generation`, which the API server bumps on every spec change and on
 *   nothing else: a status write, which gives the cached pipeline a new object, keeps its parts), or by its `spec`
 *   object when it has no uid or generation, plus the metadata compile reads and the policy object; a signature by
 *   the source object; a layout by its chunk id, source id, fields and namespaces; a rewired consumer by the original
 *   component object and its new inputs; a serialized component by the object and its id.
 * - Cached objects are never mutated afterwards: the build copies a component before it changes one (optimize.ts).
 * - Object-keyed parts live in WeakMaps and go with their keys. Parts keyed by strings (pipeline versions, layouts)
 *   are kept while the last build used them (`sweep`), so a cache never outgrows the config it serves.
 */
import type { InputComponent, SourceComponent } from '../vector/config.ts';
import { goJson } from './gojson.ts';
import { compilePipeline, isOptedOut, type CompileResult } from './pipeline.ts';
import { policyViolations, type PipelinePolicy, type PolicyViolation } from './policy.ts';
import type { RouteLayout } from './routing.ts';
import type { Pipeline } from './schemas.ts';
import { sourceSignature } from './signature.ts';

/** A pipeline version's identity when the API server tracks it: the same uid and generation mean the same spec. */
function versionOf(p: Pipeline): string | undefined {
  const m = p.metadata as Pipeline['metadata'] & { generation?: number };
  if (m.uid === undefined || m.generation === undefined) return undefined;
  return `${p.kind}\n${m.namespace ?? ''}\n${m.name}\n${m.uid}\n${String(m.generation)}`;
}

export class BuildCache {
  /** By spec object, for pipelines without a tracked version (built in tests, read by `render`). */
  private readonly bySpec = new WeakMap<object, Map<string, unknown>>();
  private readonly rewired = new WeakMap<InputComponent, { key: string; component: InputComponent }>();
  private readonly entries = new WeakMap<object, { id: string; text: string }>();
  private readonly signatures = new WeakMap<SourceComponent, string>();
  /** String-keyed parts (pipeline versions, layouts): those the last build used, and those this one has. */
  private kept = new Map<string, unknown>();
  private used = new Map<string, unknown>();

  /**
   * A part of pipeline `p`, by its version (uid and generation: a status write gives a pipeline a new object, not a
   * new version) or, without one, by its spec object.
   */
  private ofPipeline<T>(p: Pipeline, what: string, make: () => T): T {
    const version = versionOf(p);
    if (version !== undefined) return this.keep(`${what}\n${version}`, make);
    let parts = this.bySpec.get(p.spec);
    if (parts === undefined) {
      parts = new Map();
      this.bySpec.set(p.spec, parts);
    }
    const key = `${what}\n${p.kind}\n${p.metadata.namespace ?? ''}\n${p.metadata.name}`;
    if (parts.has(key)) return parts.get(key) as T;
    const made = make();
    parts.set(key, made);
    return made;
  }

  private keep<T>(key: string, make: () => T): T {
    if (this.used.has(key)) return this.used.get(key) as T;
    const made = this.kept.has(key) ? (this.kept.get(key) as T) : make();
    this.used.set(key, made);
    return made;
  }

  /** `compilePipeline(p, opts)`, once per pipeline version and the metadata compile reads. */
  compile(p: Pipeline, opts: { useApiServerCache: boolean }): CompileResult {
    const what = `compile ${String(isOptedOut(p.metadata.annotations))} ${String(opts.useApiServerCache)}`;
    return this.ofPipeline(p, what, () => compilePipeline(p, opts));
  }

  /** `policyViolations(p.kind, p.spec, policy)`, once per pipeline version and policy object. */
  policyViolations(p: Pipeline, policy: PipelinePolicy): PolicyViolation[] {
    const hit = this.ofPipeline(p, 'policy', () => ({ policy, v: policyViolations(p.kind, p.spec, policy) }));
    return hit.policy === policy ? hit.v : policyViolations(p.kind, p.spec, policy);
  }

  /** `sourceSignature(src)`, once per source object. */
  signature(src: SourceComponent): string {
    let sig = this.signatures.get(src);
    if (sig === undefined) {
      sig = sourceSignature(src);
      this.signatures.set(src, sig);
    }
    return sig;
  }

  /** The layout `make` returns for `key`, kept while builds keep using it. */
  layout(key: string, make: () => RouteLayout): RouteLayout {
    return this.keep(`layout\n${key}`, make);
  }

  /** `c` with `inputs` instead of its own, the same object as last time when the inputs are the same. */
  rewire(c: InputComponent, inputs: string[]): InputComponent {
    const key = inputs.join('\n');
    const hit = this.rewired.get(c);
    if (hit?.key === key) return hit.component;
    const component = { ...c, inputs };
    this.rewired.set(c, { key, component });
    return component;
  }

  /**
   * The member `"<id>":<goJson(component)>` of a config section, once per object and id. The text is flattened once:
   * joining thousands of concatenated (rope) strings costs far more than joining flat ones.
   */
  entry(id: string, component: object): string {
    const hit = this.entries.get(component);
    if (hit?.id === id) return hit.text;
    const text = `${goJson(id)}:${goJson(component)}`;
    text.charCodeAt(0); // V8 flattens a rope string when it is indexed
    this.entries.set(component, { id, text });
    return text;
  }

  /** After a build: drop the pipeline versions and layouts it did not use. */
  sweep(): void {
    this.kept = this.used;
    this.used = new Map();
  }
}
