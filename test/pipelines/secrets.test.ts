/**
 * Pipeline secrets, the pure layer: references rewritten in option values only, kaasops' flat keys and error texts,
 * the `secret` block byte for byte, values checked and attributed, and the relatedSecretsHash token's test vectors.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildAgentConfig } from '../../src/pipelines/build.ts';
import { describeRejection, pipelineRefOf } from '../../src/pipelines/pipeline.ts';
import type { Pipeline } from '../../src/pipelines/schemas.ts';
import {
  flatKey,
  relatedSecrets,
  relatedSecretsToken,
  rewriteSecretRefs,
  rotationPollMs,
  safeSecretValue,
  secretSourceOf,
  type SecretManifest,
} from '../../src/pipelines/secrets.ts';
import { serializeConfig } from '../../src/pipelines/serialize.ts';
import { cvp, logsToSink, vector, vp } from '../helpers/fixtures.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const secret = (namespace: string, name: string, data: Record<string, string>): SecretManifest => ({
  metadata: { namespace, name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

/** kaasops' documented example: an Elasticsearch sink whose credentials come from Secret `creds`. */
function esPipeline(namespace = 'team-a', name = 'es-pipeline', extra: Record<string, unknown> = {}): Pipeline {
  return vp(
    namespace,
    name,
    {
      sources: { pods: { type: 'kubernetes_logs' } },
      sinks: {
        es: {
          type: 'elasticsearch',
          inputs: ['pods'],
          endpoints: ['https://es:9200'],
          auth: { strategy: 'basic', user: 'SECRET[es.username]', password: 'SECRET[es.password]' },
          ...extra,
        },
      },
      secret: { es: { type: 'kubernetes_secret', name: 'creds' } },
    },
    { creationTimestamp: '2026-01-01T00:00:00Z' },
  );
}

const creds = secret('team-a', 'creds', { username: 'elastic', password: 's3cr3t' });
const build = (pipelines: Pipeline[], secrets: SecretManifest[] = [creds]) =>
  buildAgentConfig(vector(), pipelines, { optimize: false, secrets: secretSourceOf(secrets) });
const reasons = (r: ReturnType<typeof build>) => r.rejected.map(describeRejection);

describe('pipeline secrets: references and flat keys', () => {
  it("rewrites each reference to the k8s backend under kaasops' flat key, and adds the secret block exactly", () => {
    const r = build([esPipeline()]);
    assert.deepEqual(reasons(r), []);
    const json = serializeConfig(r.config);
    assert.ok(json.includes('"password":"SECRET[k8s.team_a_es_pipeline_es_password]"'), json);
    assert.ok(json.includes('"user":"SECRET[k8s.team_a_es_pipeline_es_username]"'));
    assert.ok(json.includes('"secret":{"k8s":{"path":"/etc/vector/secrets","type":"directory"}}'));
    assert.ok(!json.includes('s3cr3t') && !json.includes('elastic"'), 'values never enter the config');
    assert.deepEqual(
      [...r.secretAssets].map(([k, v]) => [k, Buffer.from(v).toString()]),
      [
        ['team_a_es_pipeline_es_username', 'elastic'],
        ['team_a_es_pipeline_es_password', 's3cr3t'],
      ],
    );
  });

  it('leaves a config without references byte for byte as before, with no secret block and no assets', () => {
    const plain = logsToSink('team-a');
    const before = serializeConfig(buildAgentConfig(vector(), [plain], { optimize: false }).config);
    const r = build([plain]);
    assert.equal(serializeConfig(r.config), before);
    assert.ok(!before.includes('"secret"'));
    assert.equal(r.secretAssets.size, 0);
    // Declared but unused: ignored completely, even with its Secret missing.
    const declared = {
      ...plain,
      spec: { ...plain.spec, secret: { x: { type: 'kubernetes_secret' as const, name: 'gone' } } },
    };
    assert.equal(serializeConfig(build([declared], []).config), before);
  });

  it('names a ClusterVectorPipeline key <pipeline>_<alias>_<key> and reads the namespace it names', () => {
    const p = cvp('shared', {
      sources: { j: { type: 'journald' } },
      sinks: { o: { type: 'http', inputs: ['j'], uri: 'https://x', auth: { token: 'SECRET[tok.value]' } } },
      secret: { tok: { type: 'kubernetes_secret', name: 'token', namespace: 'ops' } },
    });
    const r = build([p], [secret('ops', 'token', { value: 'abc' })]);
    assert.deepEqual(reasons(r), []);
    assert.equal((r.config.sinks['shared-o']?.auth as { token: string }).token, 'SECRET[k8s.shared_tok_value]');
    assert.equal(flatKey(pipelineRefOf(p), 'tok', 'a-b.c'), 'shared_tok_a_b.c');
  });

  it('rewrites several references in one string and in nested lists, and leaves non-matching text alone', () => {
    const p = esPipeline('team-a', 'p', {
      request: { headers: { Authorization: 'Basic SECRET[es.username]:SECRET[es.password]' } },
      tags: ['SECRET[es.username]', 'SECRET[bad-alias.x]', 'literal'],
    });
    const sink = build([p]).config.sinks['team-a-p-es'] as unknown as Record<string, never>;
    assert.equal(
      (sink.request as unknown as { headers: { Authorization: string } }).headers.Authorization,
      'Basic SECRET[k8s.team_a_p_es_username]:SECRET[k8s.team_a_p_es_password]',
    );
    assert.deepEqual(sink.tags, ['SECRET[k8s.team_a_p_es_username]', 'SECRET[bad-alias.x]', 'literal']);
  });
});

describe("pipeline secrets: kaasops' error texts, each naming the pipeline and the field", () => {
  const one = (p: Pipeline, secrets?: SecretManifest[]) => {
    const r = reasons(build([p], secrets));
    assert.equal(r.length, 1, 'expected one rejection');
    return r[0] ?? '';
  };

  it('refuses an undeclared alias, also without any spec.secret', () => {
    const p = logsToSink('team-a', 'l');
    (p.spec.sinks as Record<string, Record<string, unknown>>).out = {
      type: 'http',
      inputs: ['pods'],
      uri: 'SECRET[es.url]',
    };
    assert.equal(
      one(p),
      'VectorPipeline team-a/l: spec.sinks.out.uri: secret reference "SECRET[es.url]": backend "es" is not declared in spec.secret',
    );
  });

  it('refuses a key with a slash, and a flat key over 253 characters', () => {
    assert.equal(
      one(esPipeline('team-a', 'p', { compression: 'SECRET[es.a/b]' })),
      'VectorPipeline team-a/p: spec.sinks.es.compression: secret reference "SECRET[es.a/b]": key "a/b" must match ^[A-Za-z0-9_.-]+$',
    );
    const long = 'k'.repeat(250);
    const text = one(esPipeline('team-a', 'p', { compression: `SECRET[es.${long}]` }));
    assert.equal(
      text,
      `VectorPipeline team-a/p: spec.sinks.es.compression: secret reference "es.${long}": generated key ` +
        `"team_a_p_es_${long}" is 262 characters, over the 253 character Kubernetes Secret key limit; shorten the ` +
        'pipeline name, the secret alias, or the source key',
    );
  });

  it('refuses a namespace on a VectorPipeline backend, requires one on a ClusterVectorPipeline backend', () => {
    const p = esPipeline();
    p.spec.secret = { es: { type: 'kubernetes_secret', name: 'creds', namespace: 'team-b' } };
    assert.equal(
      one(p),
      'VectorPipeline team-a/es-pipeline: spec.secret.es.namespace: secret backend "es": namespace is not allowed in VectorPipeline',
    );
    const c = cvp('c', {
      sources: { j: { type: 'journald' } },
      secret: { z: { type: 'kubernetes_secret', name: 's' } },
    });
    assert.equal(one(c), 'ClusterVectorPipeline c: spec.secret.z.namespace: secret backend "z": namespace is required');
  });

  it('refuses an alias outside ^[A-Za-z0-9_]+$ with the CRD rule text', () => {
    const p = esPipeline();
    p.spec.secret = { 'bad-alias': { type: 'kubernetes_secret', name: 'creds' } };
    assert.match(one(p), /spec\.secret\.bad-alias: secret backend alias must match \^\[A-Za-z0-9_\]\+\$$/);
  });

  it('refuses a missing Secret, a missing key and an unsafe value, never quoting the value', () => {
    assert.equal(
      one(esPipeline(), []),
      'VectorPipeline team-a/es-pipeline: spec.secret.es: secret backend "es": failed to get secret team-a/creds: secrets "creds" not found',
    );
    assert.equal(
      one(esPipeline(), [secret('team-a', 'creds', { username: 'u' })]),
      'VectorPipeline team-a/es-pipeline: spec.sinks.es.auth.password: secret team-a/creds: key "password" not found',
    );
    const text = one(esPipeline(), [secret('team-a', 'creds', { username: 'u', password: 'a"b' })]);
    assert.ok(text.includes('key "password" holds a value that cannot be safely substituted'), text);
    assert.ok(text.endsWith('rotate it to a value that satisfies this') && !text.includes('a"b'));
  });

  it('refuses a reference in a typed field or an option key: Vector would substitute it anywhere', () => {
    const p = esPipeline();
    const sinks = p.spec.sinks as Record<string, Record<string, unknown>>;
    sinks.es = { ...sinks.es, inputs: ['SECRET[es.password]'] };
    assert.match(one(p), /spec\.sinks\.es\.inputs: a secret reference is allowed in option values only/);
    const q = esPipeline('team-a', 'q', { headers: { 'SECRET[es.password]': 'x' } });
    assert.match(one(q), /spec\.sinks\.es\.headers\.SECRET\[es\.password\]: .* not in keys/);
  });

  it('leaves a rejected pipeline out alone: the others keep flowing', () => {
    const r = build([esPipeline('team-a', 'broken'), logsToSink('team-b')], []);
    assert.equal(r.rejected.length, 1);
    assert.deepEqual(
      r.accepted.map((a) => a.name),
      ['logs'],
    );
  });
});

describe('pipeline secrets: values', () => {
  it("accepts empty or UTF-8 values without quote, backslash or control bytes (kaasops' rule)", () => {
    for (const ok of ['', 'pässwörd', 'a b~$%{}<>&', '\u007f']) assert.ok(safeSecretValue(Buffer.from(ok)), ok);
    for (const bad of ['a"b', 'a\\b', 'line\n', 'tab\t', '\u0000'])
      assert.ok(!safeSecretValue(Buffer.from(bad)), JSON.stringify(bad));
    assert.ok(!safeSecretValue(Buffer.from([0xc3, 0x28])), 'invalid UTF-8');
  });

  it('attributes a flat key two pipelines derive to the older one (a/b alias c_es against a/b-c alias es)', () => {
    const older = esPipeline('a', 'b-c');
    const younger = esPipeline('a', 'b', {
      auth: { strategy: 'basic', user: 'SECRET[c_es.username]', password: 'SECRET[c_es.password]' },
    });
    younger.spec.secret = { c_es: { type: 'kubernetes_secret', name: 'other' } };
    younger.metadata.creationTimestamp = '2026-02-01T00:00:00Z';
    const r = build(
      [younger, older],
      [secret('a', 'creds', { username: 'x', password: 'y' }), secret('a', 'other', { username: 'p', password: 'q' })],
    );
    assert.deepEqual(reasons(r), [
      'VectorPipeline a/b: spec.sinks.es.auth.user: secret flat key collision: flat key "a_b_c_es_username" ' +
        'collides with pipeline a/b-c on Vector vector/logs; rename one of them (or its secret backend alias/key) to ' +
        'change its flat key',
    ]);
    assert.equal(
      Buffer.from(r.secretAssets.get('a_b_c_es_password') ?? []).toString(),
      'y',
      'the older keeps its value',
    );
  });

  it('leaves out a pipeline whose values would pass the 1 MiB a Secret holds; the older keep theirs', () => {
    const big = 'x'.repeat(600 * 1024);
    const p1 = esPipeline('team-a', 'one');
    const p2 = {
      ...esPipeline('team-a', 'two'),
      metadata: { name: 'two', namespace: 'team-a', creationTimestamp: '2026-03-01T00:00:00Z' },
    };
    const r = build([p1, p2], [secret('team-a', 'creds', { username: 'u', password: big })]);
    assert.equal(r.rejected.length, 1);
    assert.match(
      reasons(r)[0] ?? '',
      /^VectorPipeline team-a\/two: spec\.secret: secret assets size limit: adding this pipeline's secret values \(614401 bytes\) to the 614401 bytes/,
    );
  });
});

describe('relatedSecretsHash', () => {
  it("matches the reference's test vectors, negative values included", () => {
    const a = {
      namespace: 'team-a',
      name: 'creds',
      uid: '11111111-2222-3333-4444-555555555555',
      resourceVersion: '12345',
    };
    const b = {
      namespace: 'observability',
      name: 'es',
      uid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      resourceVersion: '7',
    };
    assert.equal(relatedSecretsToken([a]), 6443189432882900029n);
    assert.equal(relatedSecretsToken([a, b]), -5837009077335127969n);
  });

  it('covers used backends in sorted alias order, each Secret once', () => {
    const p = esPipeline('team-a', 'p', { compression: 'SECRET[b.k] SECRET[a.k]' });
    p.spec.secret = {
      es: { type: 'kubernetes_secret', name: 'creds' },
      b: { type: 'kubernetes_secret', name: 'other' },
      a: { type: 'kubernetes_secret', name: 'creds' },
      unused: { type: 'kubernetes_secret', name: 'never' },
    };
    const rw = rewriteSecretRefs(p, pipelineRefOf(p));
    assert.ok(rw.ok);
    assert.deepEqual(relatedSecrets(rw.refs), [
      { alias: 'a', namespace: 'team-a', name: 'creds' },
      { alias: 'b', namespace: 'team-a', name: 'other' },
    ]);
  });
});

describe('rotation poll interval (Secrets no watch covers)', () => {
  it("is kaasops' 4 min + FNV-1a-32(ns, NUL, name) mod 60 s, with the reference's examples", () => {
    assert.equal(rotationPollMs('team-a', 'app'), 284_897);
    assert.equal(rotationPollMs('', 'cvp1'), 285_993);
    assert.equal(rotationPollMs('default', 'es-pipeline'), 281_491);
  });
});
