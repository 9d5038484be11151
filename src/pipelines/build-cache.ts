/**
 * The parts of one Vector's config build that the next build can reuse: each pipeline's compiled components and policy
 * verdict, each source's signature, each collapsed chunk's route layout, each rewired consumer, and each component's
 * serialized text. A pipeline change at
 * 10 000 pipelines then compiles one pipeline and serializes a handful of components instead of all of them.
 *
 * Invariants:
 * - A build with a cache returns exactly what the same build without one returns (same config, same bytes).
 * - Parts are keyed by what they are computed from: a compiled pipeline by its `spec` object (cached API objects are
 *   immutable: a new version is a new object) and the metadata compile reads; a policy verdict by the spec, the kind
 *   and the policy object; a signature by the source object; a layout by its chunk id, source id,
 *   fields and namespaces; a rewired consumer by the original component object and its new inputs; a serialized
 *   component by the object and its id.
 * - Cached objects are never mutated afterwards: the build copies a component before it changes one (optimize.ts).
 * - Object-keyed parts live in WeakMaps and go with their keys. Layouts, keyed by strings, are kept while the last
 *   build used them (`sweep`), so a cache never outgrows the config it serves.
 */
import type { InputComponent, SourceComponent } from '../vector/config.ts';
import { goJson } from './gojson.ts';
import { compilePipeline, isOptedOut, type CompileResult } from './pipeline.ts';
import { policyViolations, type PipelinePolicy, type PolicyViolation } from './policy.ts';
import type { RouteLayout } from './routing.ts';
import type { Pipeline } from './schemas.ts';
import { sourceSignature } from './signature.ts';

export class BuildCache {
  private readonly compiled = new WeakMap<object, { key: string; result: CompileResult }>();
  private readonly rewired = new WeakMap<InputComponent, { key: string; component: InputComponent }>();
  private readonly entries = new WeakMap<object, { id: string; text: string }>();
  private readonly signatures = new WeakMap<SourceComponent, string>();
  private readonly violations = new WeakMap<object, { kind: string; policy: PipelinePolicy; v: PolicyViolation[] }>();
  private layouts = new Map<string, RouteLayout>();
  private usedLayouts = new Map<string, RouteLayout>();

  /** `compilePipeline(p, opts)`, once per spec object and the metadata it reads. */
  compile(p: Pipeline, opts: { useApiServerCache: boolean }): CompileResult {
    const m = p.metadata;
    const key = `${p.kind}\n${m.namespace ?? ''}\n${m.name}\n${String(isOptedOut(m.annotations))}\n${String(opts.useApiServerCache)}`;
    const hit = this.compiled.get(p.spec);
    if (hit?.key === key) return hit.result;
    const result = compilePipeline(p, opts);
    this.compiled.set(p.spec, { key, result });
    return result;
  }

  /** `policyViolations(p.kind, p.spec, policy)`, once per spec object and policy. */
  policyViolations(p: Pipeline, policy: PipelinePolicy): PolicyViolation[] {
    const hit = this.violations.get(p.spec);
    if (hit?.kind === p.kind && hit.policy === policy) return hit.v;
    const v = policyViolations(p.kind, p.spec, policy);
    this.violations.set(p.spec, { kind: p.kind, policy, v });
    return v;
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
    let hit = this.usedLayouts.get(key) ?? this.layouts.get(key);
    if (hit === undefined) hit = make();
    this.usedLayouts.set(key, hit);
    return hit;
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

  /** After a build: drop the layouts it did not use. */
  sweep(): void {
    this.layouts = this.usedLayouts;
    this.usedLayouts = new Map();
  }
}
