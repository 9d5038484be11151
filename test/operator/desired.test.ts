/**
 * Desired state without a cluster: what the operator would write for a Vector, its pipelines and the flags.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import type { V1DaemonSet, V1Secret } from '@kubernetes/client-node';
import { MERGER_VERSION } from '../../src/merger/version.ts';
import { desiredState, type OperatorFlags } from '../../src/operator/desired.ts';
import { configModeAnnotation, secretMode } from '../../src/operator/live-state.ts';
import { defaultMergerImage, mergerImageProblem } from '../../src/operator/merger-container.ts';
import { agentObjects } from '../../src/operator/objects.ts';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { logsToSink, vector, vp } from '../helpers/fixtures.ts';

const off: OperatorFlags = { optimize: false, migration: false, mergerImage: defaultMergerImage, podMonitor: false };
const pipelines = [logsToSink('team-a'), logsToSink('team-b')];
const empty = { daemonSet: undefined, secrets: {} };

const ds = (objs: { kind?: string }[]): V1DaemonSet => objs.find((o) => o.kind === 'DaemonSet') as V1DaemonSet;

describe('desired state', () => {
  it('with migration off, the pod template is byte-identical to the pre-migration golden template', () => {
    const uid = '11111111-2222-3333-4444-555555555555';
    const v = vector({}, { uid });
    for (const optimize of [false, true]) {
      const d = desiredState(v, [], { ...off, optimize }, empty);
      const golden = parseAllDocuments(
        readFileSync(new URL('../golden/objects/agent-objects.yaml', import.meta.url), 'utf8'),
      )
        .map((doc) => doc.toJS() as { kind: string; metadata: { name: string } })
        .find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'logs-agent');
      assert.equal(
        stringify(ds(d.objects).spec?.template),
        stringify((golden as unknown as V1DaemonSet).spec?.template),
      );
      assert.equal(stringify(ds(d.objects)), stringify(ds(agentObjects(v, ''))));
    }
  });

  it('writes the same config bytes as render, and records the mode on the Secret', () => {
    const v = vector();
    const d = desiredState(v, pipelines, { ...off, optimize: true }, empty);
    const secret = d.objects[0] as V1Secret;
    const json = serializeConfig(buildAgentConfig(v, pipelines, { optimize: true }).config);
    assert.equal(Buffer.from(secret.data?.['agent.json'] ?? '', 'base64').toString(), json);
    assert.equal(secret.metadata?.annotations?.[configModeAnnotation], 'optimized');
    assert.equal(secretMode(secret), 'optimized');
    assert.deepEqual(
      d.objects.map((o) => `${o.kind}/${o.metadata?.name}`),
      [
        'Secret/logs-agent',
        'DaemonSet/logs-agent',
        'ServiceAccount/logs-agent',
        'ClusterRole/vector.logs-agent',
        'ClusterRoleBinding/vector.logs-agent',
      ],
    );
    assert.deepEqual(
      d.deletions.map((x) => `${x.kind}/${x.name}`),
      // Without pipeline secrets, no assets Secret may exist (an absent one costs a cache lookup, no request).
      ['Service/logs-agent', 'Secret/logs-agent-secret-assets', 'Secret/logs-agent-opt-secret-assets'],
    );
  });

  it('with migration on, adds a least-privilege checkpoint-merger whose image follows the merger version', () => {
    const d = desiredState(vector(), pipelines, { ...off, optimize: true, migration: true }, empty);
    const pod = ds(d.objects).spec?.template.spec;
    const merger = pod?.initContainers?.find((c) => c.name === 'checkpoint-merger');
    assert.ok(merger);
    assert.equal(merger.image, `ghcr.io/vector-operator/checkpoint-merger:${MERGER_VERSION}`);
    assert.deepEqual(merger.args, [
      '--config',
      '/etc/vector/agent.json',
      '--standby-config',
      '/etc/vector-standby/agent.json',
      '--data-dir',
      '/vector-data-dir',
      '--log-dir',
      '/var/log/pods',
      '--summary-file',
      '/dev/termination-log',
    ]);
    assert.deepEqual(merger.securityContext, {
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    assert.ok(merger.resources?.requests && merger.resources.limits);
    assert.equal(merger.terminationMessagePath, undefined, 'the default path, /dev/termination-log');
    const volumes = pod?.volumes ?? [];
    assert.equal(volumes.find((v) => v.name === 'config')?.secret?.secretName, 'logs-agent-opt');
    assert.equal(volumes.find((v) => v.name === 'config-standby')?.secret?.secretName, 'logs-agent');
    assert.deepEqual(
      d.objects.slice(0, 2).map((o) => o.metadata?.name),
      ['logs-agent-opt', 'logs-agent'],
    );
  });

  it('with compressConfigFile, the merger runs after the unpacking init container and reads both configs', () => {
    const v = vector({ agent: { compressConfigFile: true } });
    const d = desiredState(v, pipelines, { ...off, optimize: true, migration: true }, empty);
    const pod = ds(d.objects).spec?.template.spec;
    assert.deepEqual(
      pod?.initContainers?.map((c) => c.name),
      ['init-config-reloader', 'checkpoint-merger'],
    );
    // --config reads what the reloader unpacked into the `config` emptyDir; --standby-config the Secret as stored.
    const volumes = pod.volumes ?? [];
    assert.ok(volumes.find((x) => x.name === 'config')?.emptyDir);
    assert.equal(volumes.find((x) => x.name === 'app-config-compress')?.secret?.secretName, 'logs-agent-opt');
    assert.equal(volumes.find((x) => x.name === 'config-standby')?.secret?.secretName, 'logs-agent');
    const standby = d.objects.find((o) => o.kind === 'Secret' && o.metadata?.name === 'logs-agent') as V1Secret;
    const stored = Buffer.from(standby.data?.['agent.json'] ?? '', 'base64');
    assert.deepEqual([stored[0], stored[1]], [0x1f, 0x8b], 'gzip, which the merger unpacks itself');
  });

  it('an operator upgrade with migration on changes nothing in the template (no operator version in it)', () => {
    const a = desiredState(vector(), pipelines, { ...off, migration: true }, empty);
    const b = desiredState(vector(), pipelines, { ...off, migration: true }, empty);
    assert.equal(stringify(ds(a.objects)), stringify(ds(b.objects)));
    assert.doesNotMatch(stringify(ds(a.objects)), /0\.1\.0-operator|vector-operator:/);
  });

  it('passes --position-policy max to the merger; the default (min) leaves the template as it was', () => {
    const merger = (flags: OperatorFlags): string[] =>
      ds(desiredState(vector(), pipelines, flags, empty).objects).spec?.template.spec?.initContainers?.find(
        (c) => c.name === 'checkpoint-merger',
      )?.args ?? [];
    const plain = merger({ ...off, migration: true });
    assert.ok(plain.length > 0);
    assert.deepEqual(merger({ ...off, migration: true, mergerPositionPolicy: 'min' }), plain);
    assert.deepEqual(merger({ ...off, migration: true, mergerPositionPolicy: 'max' }), [
      ...plain,
      '--position-policy',
      'max',
    ]);
  });

  it('refuses a merger image with an empty tag', () => {
    assert.equal(mergerImageProblem(defaultMergerImage), undefined);
    assert.match(mergerImageProblem('kaasops/checkpoint-merger:') ?? '', /empty/);
    assert.match(mergerImageProblem('') ?? '', /empty/);
  });

  it('writes nothing when a config to be written fails the structural check', () => {
    // The operator leaves such a pipeline out (it fails alone); desiredState itself must still refuse to publish.
    const broken = vp('team-a', 'x', {
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: { out: { type: 'blackhole', inputs: ['missing'] } },
    });
    const d = desiredState(vector(), [broken], off, empty);
    assert.equal(d.ok, false);
    assert.match(d.problems.join('\n'), /team-a-x-out/);
  });

  it('refuses a config Secret over the 1 MiB a Secret holds, naming it and compressConfigFile', () => {
    // 30 pipelines × 100 KiB of incompressible VRL comment: 3 MiB as text, still about 1.5 MiB gzipped.
    const bulky = Array.from({ length: 30 }, (_, i) =>
      vp(`team-${i}`, 'app', {
        sources: { pods: { type: 'kubernetes_logs' } },
        transforms: { t: { type: 'remap', inputs: ['pods'], source: `# ${randomBytes(51_200).toString('hex')}\n.` } },
        sinks: { out: { type: 'blackhole', inputs: ['t'] } },
      }),
    );
    const plain = desiredState(vector(), bulky.slice(0, 12), off, empty);
    assert.equal(plain.ok, false);
    assert.match(
      plain.problems.join('\n'),
      /Secret vector\/logs-agent would hold 1\.2 MiB of config, over the 1 MiB \(1048576 bytes\) a Secret holds: set spec\.agent\.compressConfigFile: true/,
    );
    const gzipped = vector({ agent: { compressConfigFile: true } });
    assert.equal(desiredState(gzipped, bulky.slice(0, 12), off, empty).ok, true);
    const tooMany = desiredState(gzipped, bulky, off, empty);
    assert.match(tooMany.problems.join('\n'), /even gzipped, .*: spread the pipelines over more Vectors/);
  });

  it('reads the mode of a Secret written before the annotation existed from its content', () => {
    const enc = (s: string) => Buffer.from(s).toString('base64');
    assert.equal(
      secretMode({ data: { 'agent.json': enc('{"sources":{"optimizedSource-b8c6f0ff":{}}}') } }),
      'optimized',
    );
    assert.equal(secretMode({ data: { 'agent.json': enc('{"sources":{"team-a-logs-pods":{}}}') } }), 'legacy');
    assert.equal(secretMode(undefined), undefined);
  });
});
