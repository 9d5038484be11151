/**
 * kaasops' flags on `vector-operator run` (the compiled bin, `npm run build` first): its Helm chart's args start the
 * operator unchanged, secure metrics authenticate and authorize every scrape, HTTP/2 only when enabled, and
 * `--watch-name` never hides the operator's own objects.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import { pino } from 'pino';
import { spawnOperator, stopOperator } from '../helpers/operator-process.ts';
import { normaliseArgs } from '../../src/cli/run.ts';
import { logSettings, notImplemented, type KaasopsValues } from '../../src/cli/kaasops-flags.ts';
import { standInOnly } from '../helpers/kube-target.ts';
import { eventually, secretPath, vectorObj, vectorPath } from '../operator/stand.ts';
import { getTls } from '../helpers/scrape.ts';
import { operatorProcessHooks, standSuite } from '../operator/stand-suite.ts';

const startOperator = spawnOperator;
const stop = stopOperator;

/** GET over HTTP/2 only (ALPN h2); rejects when the server does not negotiate h2. */
function getH2(origin: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(origin, { rejectUnauthorized: false });
    session.on('error', reject);
    const req = session.request({ ':path': '/metrics', authorization: `Bearer ${token}` });
    req.on('error', reject);
    req.on('response', (h) => {
      resolve(Number(h[':status']));
      session.close();
    });
    req.end();
  });
}

const chartExamples = [
  '-watch-namespace=vector',
  '-watch-name=vector-operator',
  '-enable-reconciliation-invalid-pipelines=true',
  '-reconciliation-retry-delay=120s',
  '-enable-config-optimization',
  '-enable-checkpoint-migration',
];

describe('kaasops flags: parsing', () => {
  const values = (v: Partial<KaasopsValues>): KaasopsValues => ({
    'metrics-secure': true,
    'enable-http2': false,
    'watch-name': '',
    'enable-reconciliation-invalid-pipelines': false,
    'reconciliation-retry-delay': '30s',
    ...v,
  });

  it("takes Go's boolean forms, false included, for flags that default to true", () => {
    assert.deepEqual(normaliseArgs(['--metrics-secure=false', '-enable-http2=1', '-zap-devel=F', '-metrics-secure']), [
      '--no-metrics-secure',
      '--enable-http2',
      '--no-zap-devel',
      '--metrics-secure',
    ]);
  });

  it('maps the zap flags onto log levels and refuses what controller-runtime refuses, naming the flag', () => {
    const level = (v: Partial<KaasopsValues>, ours?: string): string => {
      const s = logSettings(ours, values(v));
      return typeof s === 'string' ? s : s.level;
    };
    assert.equal(level({}), 'info');
    assert.equal(level({ 'zap-devel': true }), 'debug');
    assert.equal(level({ 'zap-devel': false }), 'info');
    assert.equal(level({ 'zap-log-level': 'error', 'zap-devel': true }), 'error');
    assert.equal(level({ 'zap-log-level': '1' }), 'debug');
    assert.equal(level({ 'zap-log-level': '3' }), 'trace');
    assert.equal(level({ 'zap-log-level': 'debug' }, 'warn'), 'warn', 'our --log-level, given, wins');
    assert.match(level({ 'zap-log-level': 'loud' }), /--zap-log-level 'loud' must be/);
    assert.match(level({ 'zap-encoder': 'xml' }), /--zap-encoder 'xml' must be json or console/);
    assert.match(level({ 'zap-time-encoding': 'week' }), /--zap-time-encoding 'week' must be one of/);
    assert.match(level({ 'zap-stacktrace-level': 'warn' }), /--zap-stacktrace-level 'warn' must be/);
  });

  it('writes the time field as zap would, and a stack trace from the given level up', () => {
    const settings = logSettings(
      undefined,
      values({ 'zap-time-encoding': 'rfc3339', 'zap-stacktrace-level': 'error', 'zap-devel': true }),
    );
    assert.ok(typeof settings !== 'string');
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: settings.level, ...settings.options },
      {
        write: (s: string) => {
          lines.push(JSON.parse(s) as Record<string, unknown>);
        },
      },
    );
    log.debug({ step: 1 }, 'visible at debug');
    log.warn({ step: 2 }, 'no stack');
    log.error({ step: 3 }, 'with stack');
    assert.deepEqual(
      lines.map((l) => [l.msg, l.step, typeof l.stacktrace]),
      [
        ['visible at debug', 1, 'undefined'],
        ['no stack', 2, 'undefined'],
        ['with stack', 3, 'string'],
      ],
    );
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('names every accepted flag whose kaasops behaviour is missing, and only those', () => {
    assert.deepEqual(notImplemented(values({})), []);
    assert.deepEqual(
      notImplemented(values({ 'watch-name': 'vector' })).map((w) => w.flag),
      [],
      'the value kaasops supports: nothing is missing (Secrets are watched, so no rotation poll is needed)',
    );
    const flags = notImplemented(
      values({
        'watch-name': 'vector-operator',
        'enable-reconciliation-invalid-pipelines': true,
        'zap-encoder': 'console',
      }),
    ).map((w) => w.flag);
    assert.deepEqual(flags, ['watch-name', 'zap-encoder']);
  });
});

standSuite('kaasops flags on a running operator', {}, (stand, target) => {
  const kubeconfig = operatorProcessHooks(stand, 'kaasops-flags-test-');

  it("starts with the chart's args (its commented examples, metrics on, insecure) and keeps updating agents", async () => {
    // Exactly what the chart renders: `args` verbatim, then the metrics args (Go keeps the last value).
    const p = startOperator(kubeconfig(), [...chartExamples, '--metrics-bind-address=:8080', '--metrics-secure=false']);
    try {
      await eventually('controllers started', () => p.logs.some((l) => l.msg === 'controllers started'));
      for (const flag of ['--watch-name'])
        assert.ok(
          p.logs.some((l) => l.level === 40 && l.flag === flag && String(l.msg).includes('not implemented')),
          `a start-up warning names ${flag}`,
        );
      const res = await eventually('plain metrics on :8080', async () => {
        const r = await fetch('http://127.0.0.1:8080/metrics').catch(() => undefined);
        return r?.status === 200 ? r.text() : undefined;
      });
      assert.match(res, /vector_operator_reconciles_total|nodejs_/);
      // --watch-name=vector-operator: kaasops loses sight of its own objects and fails every later update.
      await stand().create(vectorPath('vector'), vectorObj('logs', 'vector'));
      await eventually('the agent Secret', async () => stand().get(secretPath('vector', 'logs-agent')));
      await stand().patch(vectorPath('vector', 'logs'), { spec: { agent: { api: { enabled: true } } } });
      await eventually('an update reaches the agent objects', async () =>
        stand().get('/api/v1/namespaces/vector/services/logs-agent'),
      );
      assert.ok(!p.logs.some((l) => l.msg === 'reconcile failed; retrying with backoff'), 'no failing reconcile');
      assert.equal(await stop(p), 0);
      await stand().del(vectorPath('vector', 'logs'));
    } finally {
      await stop(p);
    }
  });

  it("starts with the chart's secure metrics args and refuses an unauthenticated scrape", async () => {
    const p = startOperator(kubeconfig(), ['--metrics-bind-address=:8443', '--metrics-secure=true']);
    try {
      const at = await eventually('the metrics address', () => p.address('serving /metrics'));
      assert.match(at, /:8443$/);
      assert.equal((await getTls('https://127.0.0.1:8443/metrics')).status, 401);
      await eventually('controllers started', () => p.logs.some((l) => l.msg === 'controllers started'));
      assert.equal(await stop(p), 0);
    } finally {
      await stop(p);
    }
  });

  describe('secure metrics', { skip: standInOnly(target, '/_lab/tokens') }, () => {
    const addToken = (token: string, username: string): void => {
      stand().server.addToken(token, username);
    };

    it('authenticates (TokenReview) and authorizes (SubjectAccessReview) every scrape', async () => {
      await stand().create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        metadata: { name: 'metrics-reader' },
        rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
      });
      await stand().create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        metadata: { name: 'prometheus-metrics-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'metrics-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'vector' }],
      });
      addToken('prometheus-token', 'system:serviceaccount:vector:prometheus');
      addToken('intruder-token', 'system:serviceaccount:vector:intruder');
      const p = startOperator(kubeconfig(), ['--metrics-bind-address=127.0.0.1:0']);
      try {
        const at = await eventually('the metrics address', () => p.address('serving /metrics'));
        await eventually('controllers started', () => p.logs.some((l) => l.msg === 'controllers started'));
        const url = `https://${at}/metrics`;
        assert.equal((await getTls(url)).status, 401, 'no token');
        assert.equal((await getTls(url, 'forged-token')).status, 401, 'a token TokenReview rejects');
        const denied = await getTls(url, 'intruder-token');
        assert.equal(denied.status, 403, 'a user without get on /metrics');
        assert.match(denied.body, /system:serviceaccount:vector:intruder/);
        const ok = await getTls(url, 'prometheus-token');
        assert.equal(ok.status, 200);
        assert.match(ok.body, /nodejs_/);
        await assert.rejects(getH2(`https://${at}`, 'prometheus-token'), 'HTTP/2 is refused by default');
        assert.equal(await stop(p), 0);
      } finally {
        await stop(p);
      }
      const h2 = startOperator(kubeconfig(), ['--metrics-bind-address=127.0.0.1:0', '-enable-http2']);
      try {
        const at = await eventually('the metrics address', () => h2.address('serving /metrics'));
        await eventually('controllers started', () => h2.logs.some((l) => l.msg === 'controllers started'));
        assert.equal(await getH2(`https://${at}`, 'prometheus-token'), 200, 'HTTP/2 with --enable-http2');
        assert.equal((await getTls(`https://${at}/metrics`, 'prometheus-token')).status, 200, 'HTTP/1.1 too');
        assert.equal(await stop(h2), 0);
      } finally {
        await stop(h2);
      }
    });
  });
});
