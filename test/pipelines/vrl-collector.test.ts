/**
 * The VRL lane's own helpers, without the compiler: the collector finds every VRL program of a config, events carry
 * the namespace where each metadata layout puts it, and sources read the pods their selectors name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { logsToSink, namespaces, vector, vp } from '../helpers/fixtures.ts';
import { collectVrlPrograms, eventFor, readsPod, selectorMatches } from '../helpers/vrl-topology.ts';

const pod = { namespace: 'team-a', name: 'p', container: 'app', labels: { tier: 'web' } };

describe('VRL lane helpers', () => {
  it('collects the bucketer, every L1 and L2 route, filter conditions and remap sources', () => {
    const pipelines = [
      ...namespaces(40).map((ns) => logsToSink(ns)),
      vp('ns-00', 'f', {
        sources: { pods: { type: 'kubernetes_logs' } },
        transforms: {
          keep: { type: 'filter', inputs: ['pods'], condition: { type: 'vrl', source: '.a == 1' } },
          fix: { type: 'remap', inputs: ['keep'], source: '.b = 2' },
          some: { type: 'sample', inputs: ['fix'], rate: 2, exclude: '.c == 3' },
          other: { type: 'filter', inputs: ['fix'], condition: { type: 'is_log' } },
        },
        sinks: { out: { type: 'blackhole', inputs: ['some', 'other'] } },
      }),
    ];
    const { config } = buildAgentConfig(vector(), pipelines, { optimize: true });
    const sites = collectVrlPrograms(config);
    const l1 = Object.keys(config.transforms).find((id) => id.endsWith('-l1')) as string;
    const buckets = Object.keys(config.transforms[l1]?.route as object).length;
    assert.equal(sites.filter((s) => s.kind === 'remap' && s.component.startsWith('optimizedBucketer-')).length, 1);
    assert.equal(sites.filter((s) => s.component === l1).length, buckets);
    assert.equal(sites.filter((s) => /^optimizedRouter-\w+-\d+$/.test(s.component)).length, 40);
    assert.deepEqual(
      sites.filter((s) => !s.component.startsWith('optimized')).map((s) => [s.component, s.field, s.source]),
      [
        ['ns-00-f-keep', 'condition', '.a == 1'],
        ['ns-00-f-fix', 'source', '.b = 2'],
        ['ns-00-f-some', 'exclude', '.c == 3'],
      ],
    );
  });

  it('puts the namespace where each metadata layout of kubernetes_logs puts it', () => {
    const base = { type: 'kubernetes_logs' };
    assert.deepEqual((eventFor(base, pod, 'm').event as { kubernetes: object }).kubernetes, {
      pod_namespace: 'team-a',
      pod_name: 'p',
      container_name: 'app',
      pod_labels: { tier: 'web' },
    });
    const moved = eventFor({ ...base, pod_annotation_fields: { pod_namespace: 'k8s.ns' } }, pod, 'm').event;
    assert.deepEqual((moved as { k8s: object }).k8s, { ns: 'team-a' });
    const vns = eventFor({ ...base, log_namespace: true }, pod, 'm');
    assert.equal(vns.event, 'm');
    assert.equal((vns.metadata?.kubernetes_logs as { pod_namespace: string }).pod_namespace, 'team-a');
  });

  it('reads a pod by the namespace and pod label selectors, as the API server would select them', () => {
    const ns = 'kubernetes.io/metadata.name';
    assert.ok(selectorMatches(`${ns} in (x,team-a),${ns}!=b`, { [ns]: 'team-a' }));
    assert.ok(!selectorMatches(`${ns} notin (team-a)`, { [ns]: 'team-a' }));
    assert.ok(selectorMatches('', {}));
    assert.ok(readsPod({ type: 'kubernetes_logs', extra_label_selector: 'tier=web' }, pod));
    assert.ok(!readsPod({ type: 'kubernetes_logs', extra_namespace_label_selector: `${ns}=team-b` }, pod));
    assert.ok(!readsPod({ type: 'journald' }, pod));
  });
});
