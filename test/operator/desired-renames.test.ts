/**
 * Desired state for renames within optimized mode, without a cluster: from the live Secrets and DaemonSet, the
 * template switches Secrets exactly when the new config renames a source for the pods, and the Secret they leave is
 * desired with exactly the content they run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import { desiredState, type Observed, type OperatorFlags } from '../../src/operator/desired.ts';
import { defaultMergerImage } from '../../src/operator/merger-container.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import { logsToSink, vector } from '../helpers/fixtures.ts';

const flags: OperatorFlags = { optimize: true, migration: true, mergerImage: defaultMergerImage, podMonitor: false };
const v = vector();

/** What the cluster shows after applying `objects` and a completed rollout. */
function applied(objects: ReturnType<typeof desiredState>['objects']): Observed {
  const secrets: Observed['secrets'] = {};
  let daemonSet: V1DaemonSet | undefined;
  for (const o of objects) {
    if (o.kind === 'Secret') secrets[o.metadata?.name === 'logs-agent' ? 'agent' : 'opt'] = o;
    if (o.kind === 'DaemonSet') {
      const ds = o as V1DaemonSet;
      daemonSet = {
        apiVersion: ds.apiVersion,
        kind: ds.kind,
        metadata: { name: ds.metadata?.name, generation: 1 },
        spec: ds.spec,
        status: {
          observedGeneration: 1,
          currentNumberScheduled: 2,
          desiredNumberScheduled: 2,
          numberMisscheduled: 0,
          numberReady: 2,
          updatedNumberScheduled: 2,
          numberAvailable: 2,
        },
      };
    }
  }
  return { daemonSet, secrets };
}

const mount = (d: ReturnType<typeof desiredState>): string | undefined =>
  (d.objects.find((o) => o.kind === 'DaemonSet') as V1DaemonSet).spec?.template.spec?.volumes?.find(
    (x) => x.name === 'config',
  )?.secret?.secretName;
const text = (s: unknown): string =>
  Buffer.from((s as V1Secret | undefined)?.data?.['agent.json'] ?? '', 'base64').toString();

function converge(pipelines: Pipeline[], f: OperatorFlags = flags): Observed {
  let seen: Observed = { daemonSet: undefined, secrets: {} };
  for (let i = 0; i < 3; i++) seen = applied(desiredState(v, pipelines, f, seen).objects);
  return seen;
}

describe('desired state: renames within optimized mode', () => {
  const solo = { glob_minimum_cooldown_ms: 60_000 };
  const base = [logsToSink('a'), logsToSink('b'), logsToSink('c', 'solo', solo)];

  it('a group going 1 -> 2 switches Secrets; the one left keeps its bytes; the Event counts are ready', () => {
    const seen = converge(base);
    const d = desiredState(v, [...base, logsToSink('d', 'solo', solo)], flags, seen);
    assert.equal(d.plan.roll, 'rename');
    assert.equal(mount(d), 'logs-agent');
    const left = d.objects.find((o) => o.metadata?.name === 'logs-agent-opt') as V1Secret;
    assert.equal(text(left), text(seen.secrets.opt), 'the pods not yet rolled keep their config byte for byte');
    assert.deepEqual([d.renamed?.sources, d.renamed?.namespaces], [1, 1]);
    assert.match(d.renamed?.examples[0] ?? '', /^c-solo-pods -> optimizedSource-[0-9a-f]{8}$/);
    assert.match(d.plan.message, /1 source rename\(s\) over 1 namespace\(s\)/);
  });

  it('adding a pipeline to the big group renames nothing: same Secret, no roll', () => {
    const seen = converge(base);
    const d = desiredState(v, [...base, logsToSink('e')], flags, seen);
    assert.equal(d.plan.roll, undefined);
    assert.equal(mount(d), 'logs-agent-opt');
    assert.match(text(d.objects[0]), /kubernetes.io\/metadata.name in \(a,b,e\)/);
  });

  it('crossing the chunk size renames every chunk (a test-only chunk size of 2)', () => {
    const small = { ...flags, maxNamespacesPerSource: 2 };
    const seen = converge(base, small);
    const d = desiredState(v, [...base, logsToSink('e')], small, seen);
    assert.equal(d.plan.roll, 'rename');
    const ids = Object.keys((JSON.parse(text(d.objects[0])) as { sources: object }).sources);
    assert.ok(ids.includes('optimizedSource-b8c6f0ff-0') && ids.includes('optimizedSource-b8c6f0ff-1'), ids.join());
    assert.equal(d.renamed?.namespaces, 2);
  });

  it('with migration off nothing switches: the rename is a live reload, as without the feature', () => {
    const off = { ...flags, migration: false };
    const seen = converge(base, off);
    const d = desiredState(v, [...base, logsToSink('d', 'solo', solo)], off, seen);
    assert.deepEqual([d.plan.roll, mount(d), d.renamed], [undefined, 'logs-agent', undefined]);
  });
});
