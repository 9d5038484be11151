/**
 * Tenant isolation, tried the way a team with rights only in its own namespace would: each escape from issue #16 is
 * refused by default naming the component and the field, allowed by the admin's setting, kept flowing and flagged in
 * warn mode (kaasops compatibility), and the other pipelines keep flowing throughout.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig, type BuildResult } from '../../src/pipelines/build.ts';
import { describeRejection, type Rejection } from '../../src/pipelines/pipeline.ts';
import { defaultPolicy, type PipelinePolicy } from '../../src/pipelines/policy.ts';
import type { Pipeline, PipelineSpec } from '../../src/pipelines/schemas.ts';
import { escapes } from '../helpers/escapes.ts';
import { cvp, logsToSink, vector, vp } from '../helpers/fixtures.ts';

const pods = { pods: { type: 'kubernetes_logs' } };
const build = (pipelines: Pipeline[], policy?: Partial<PipelinePolicy>): BuildResult =>
  buildAgentConfig(vector(), pipelines, {
    optimize: false,
    ...(policy === undefined ? {} : { policy: { ...defaultPolicy, ...policy } }),
  });
const set = (...xs: string[]) => new Set(xs);
const first = (xs: readonly Rejection[]): Rejection => {
  const x = xs[0];
  assert.ok(x, 'expected at least one entry');
  return x;
};

const neighbours = [logsToSink('team-a', 'same-ns'), logsToSink('team-b', 'other-ns')];

describe('tenant policy for namespaced pipelines', () => {
  for (const e of escapes) {
    it(`refuses ${e.name} by default, naming the component and the field, and the others keep flowing`, () => {
      const r = build([vp('team-a', 'escape', e.spec), ...neighbours]);
      assert.equal(r.rejected.length, 1);
      const rej = r.rejected[0] as Rejection;
      assert.equal(rej.field, e.field);
      assert.match(rej.reason, e.says);
      assert.match(describeRejection(rej), /^VectorPipeline team-a\/escape: spec\./);
      assert.match(rej.reason, /--pipeline-policy=warn/, 'names the compatibility setting');
      assert.deepEqual(
        r.accepted.map((x) => `${x.namespace}/${x.name}`),
        ['team-a/same-ns', 'team-b/other-ns'],
      );
      assert.ok(!Object.keys(r.config.sources).some((id) => id.startsWith('team-a-escape-')));
    });

    const allow = e.allow;
    if (allow !== undefined) {
      it(`allows ${e.name} when the cluster admin says so`, () => {
        const r = build([vp('team-a', 'escape', e.spec)], allow);
        assert.deepEqual(r.rejected, []);
        assert.deepEqual(r.tolerated, []);
        assert.deepEqual(
          r.accepted.map((x) => x.name),
          ['escape'],
        );
      });
    }

    it(`keeps ${e.name} flowing in warn mode, flagged with the field`, () => {
      const r = build([vp('team-a', 'escape', e.spec), ...neighbours], { mode: 'warn' });
      assert.deepEqual(r.rejected, []);
      assert.equal(r.accepted.length, 3);
      assert.equal(r.tolerated.length, 1);
      assert.equal(first(r.tolerated).field, e.field);
      assert.equal(first(r.tolerated).pipeline.name, 'escape');
      assert.doesNotMatch(first(r.tolerated).reason, /--pipeline-policy=warn/);
    });

    it(`leaves ${e.name} alone in a ClusterVectorPipeline, whose config is unchanged`, () => {
      const spec = { ...e.spec, sources: { pods: { type: 'kubernetes_logs' } } };
      const enforced = build([cvp('admin', spec)]);
      assert.deepEqual(enforced.rejected, []);
      assert.deepEqual(enforced.tolerated, []);
      const widened = build([cvp('admin', spec)], { mode: 'warn', allowTypes: set('lua', 'file', 'socket') });
      assert.deepEqual(enforced.config, widened.config);
    });
  }

  it('refuses a ClusterVectorPipeline too when the admin extends the policy to them', () => {
    const r = build([cvp('admin', (escapes[0] as (typeof escapes)[0]).spec)], { clusterPipelines: true });
    assert.equal(first(r.rejected).field, 'spec.transforms.steal.type');
  });

  it('leaves a kaasops-style team pipeline untouched: remap without host access, network sinks', () => {
    const spec: PipelineSpec = {
      sources: { pods: { type: 'kubernetes_logs', extra_label_selector: 'app=web' } },
      transforms: {
        parse: {
          type: 'remap',
          inputs: ['pods'],
          source: [
            '# parse the JSON body; keep the raw line when it is not JSON',
            '. = merge(., object!(parse_json(.message) ?? {}))',
            '.level = downcase(string(.level) ?? "info")',
            '.env = "prod"',
            "if match(.message, r'^\\d+ ') { .numbered = true }",
            '.home = "$$HOME is literal"',
          ].join('\n'),
        },
        errors: { type: 'filter', inputs: ['parse'], condition: '.level == "error"' },
        split: {
          type: 'route',
          inputs: ['parse'],
          route: { web: 'starts_with(string!(.kubernetes.pod_name), "web")' },
        },
      },
      sinks: {
        es: {
          type: 'elasticsearch',
          inputs: ['errors'],
          endpoints: ['https://es.logging:9200'],
          auth: { strategy: 'basic', user: 'team-a', password: 'inline-secret' },
          tls: { verify_certificate: false },
          buffer: { type: 'memory', max_events: 1000 },
        },
        loki: {
          type: 'loki',
          inputs: ['split.web'],
          endpoint: 'http://loki:3100',
          path: '/loki/api/v1/push',
          labels: { ns: '{{ kubernetes.pod_namespace }}' },
          encoding: { codec: 'json' },
        },
        http: { type: 'http', inputs: ['parse'], uri: 'https://collector.example/v1', encoding: { codec: 'json' } },
      },
    };
    const withPolicy = build([vp('team-a', 'app', spec)]);
    assert.deepEqual(withPolicy.rejected, []);
    assert.deepEqual(withPolicy.tolerated, []);
    const warn = build([vp('team-a', 'app', spec)], { mode: 'warn' });
    assert.deepEqual(withPolicy.config, warn.config);
    assert.deepEqual(Object.keys(withPolicy.config.sinks).sort(), [
      'team-a-app-es',
      'team-a-app-http',
      'team-a-app-loki',
    ]);
  });

  it('refuses a type it does not know (a later Vector sink) until the admin allows it', () => {
    const spec = { sources: pods, sinks: { n: { type: 'shiny_new_sink', inputs: ['pods'] } } };
    const r = build([vp('team-a', 'new', spec)]);
    assert.equal(first(r.rejected).field, 'spec.sinks.n.type');
    assert.match(first(r.rejected).reason, /not on the list.*--pipeline-policy-allow-types=shiny_new_sink/);
    assert.deepEqual(build([vp('team-a', 'new', spec)], { allowTypes: set('shiny_new_sink') }).rejected, []);
  });

  it('lets the admin narrow: a denied type and a denied VRL function are refused', () => {
    const spec: PipelineSpec = {
      sources: pods,
      transforms: { t: { type: 'remap', inputs: ['pods'], source: 'log("hi")' } },
      sinks: { out: { type: 'console', inputs: ['t'], encoding: { codec: 'json' } } },
    };
    assert.deepEqual(build([vp('team-a', 'p', spec)]).rejected, []);
    const noConsole = build([vp('team-a', 'p', spec)], { denyTypes: set('console') });
    assert.equal(first(noConsole.rejected).field, 'spec.sinks.out.type');
    assert.match(first(noConsole.rejected).reason, /--pipeline-policy-deny-types/);
    const noLog = build([vp('team-a', 'p', spec)], { denyFunctions: set('log') });
    assert.equal(first(noLog.rejected).field, 'spec.transforms.t.source');
    assert.match(first(noLog.rejected).reason, /log, which the cluster admin denied/);
  });

  it('does not let an allowed path prefix be escaped with `..`', () => {
    const spec: PipelineSpec = {
      sources: pods,
      sinks: {
        es: {
          type: 'elasticsearch',
          inputs: ['pods'],
          endpoints: ['https://es:9200'],
          tls: { ca_file: '/etc/tenant-ca/../kubernetes/pki/ca.crt' },
        },
      },
    };
    const r = build([vp('team-a', 'p', spec)], { allowPaths: ['/etc/tenant-ca/'] });
    assert.equal(first(r.rejected).field, 'spec.sinks.es.tls.ca_file');
    const ok = { ...spec, sinks: { es: { ...spec.sinks?.es, tls: { ca_file: '/etc/tenant-ca/ca.crt' } } } };
    assert.deepEqual(build([vp('team-a', 'p', ok as PipelineSpec)], { allowPaths: ['/etc/tenant-ca'] }).rejected, []);
  });

  it('lists every flagged component of a pipeline in warn mode', () => {
    const spec: PipelineSpec = {
      sources: pods,
      transforms: { l: { type: 'lua', inputs: ['pods'], version: '2', hooks: { process: 'p' }, source: '' } },
      sinks: { f: { type: 'file', inputs: ['l'], path: '/tmp/x', encoding: { codec: 'text' } } },
    };
    const r = build([vp('team-a', 'p', spec)], { mode: 'warn' });
    assert.deepEqual(
      r.tolerated.map((t) => t.field),
      ['spec.transforms.l.type', 'spec.sinks.f.type'],
    );
  });
});
