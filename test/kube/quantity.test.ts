/**
 * Resource quantities in the form a real API server stores them. Expected values follow k8s.io/apimachinery
 * resource.Quantity (ParseQuantity, then MarshalJSON/String), including the cases of its quantity_test.go tables.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalPodSpec, canonicalQuantity, InvalidQuantity } from '../../src/kube/quantity.ts';

const check = (cases: [string | number, string][]): void => {
  for (const [input, want] of cases)
    assert.equal(canonicalQuantity(input), want, `${JSON.stringify(input)} is stored as ${want}`);
};

describe('canonicalQuantity', () => {
  it('stores the operator defaults the way a real server does: 1000m as 1, 1024Mi as 1Gi, the rest unchanged', () => {
    check([
      ['1000m', '1'],
      ['100m', '100m'],
      ['1024Mi', '1Gi'],
      ['200Mi', '200Mi'],
      ['50m', '50m'],
      ['64Mi', '64Mi'],
      ['500m', '500m'],
      ['256Mi', '256Mi'],
    ]);
  });

  it('keeps a binary suffix only for an exact value of at least 1024, the largest power of 1024 that divides it', () => {
    check([
      ['1.5Gi', '1536Mi'],
      ['2000Mi', '2000Mi'],
      ['123Mi', '123Mi'],
      ['307200Ki', '300Mi'],
      ['1024Gi', '1Ti'],
      ['1001Gi', '1001Gi'],
      ['5Ki', '5Ki'],
      // Below 1024, or not an integer: decimal.
      ['0.5Ki', '512'],
      ['1.1Gi', '1181116006400m'],
    ]);
  });

  it('writes decimal values with an exponent that is a multiple of 3, and milli where needed', () => {
    check([
      ['0.5', '500m'],
      ['1.5', '1500m'],
      ['0.1', '100m'],
      ['1.08', '1080m'],
      ['1000', '1k'],
      ['1000M', '1G'],
      ['0.001T', '1G'],
      ['1234567M', '1234567M'],
      ['128974848', '128974848'],
      ['129M', '129M'],
      ['1025', '1025'],
      ['1n', '1n'],
      ['-1000m', '-1'],
      ['-1024Mi', '-1Gi'],
    ]);
  });

  it('keeps the decimal-exponent form of its input: 1e3 stays 1e3 (apimachinery does not turn it into 1k)', () => {
    check([
      ['1e3', '1e3'],
      ['129e6', '129e6'],
      ['3e-9', '3e-9'],
      ['12e1', '120'],
      ['1e-1', '100e-3'],
      ['10800e-4', '1080e-3'],
    ]);
  });

  it('keeps an input that parses to canonical form verbatim, as Go caches it, and rounds up to nano', () => {
    check([
      ['+1', '+1'],
      ['0100m', '0100m'],
      ['1E3', '1E3'],
      [' 2Gi ', '2Gi'],
      ['0', '0'],
      ['0Mi', '0'],
      ['0.0', '0'],
      ['1.0001n', '2n'],
      ['100Ei', '9223372036854775807'],
    ]);
  });

  it('accepts JSON numbers, and refuses what Go refuses', () => {
    check([
      [2, '2'],
      [0.5, '500m'],
      [1.5, '1500m'],
    ]);
    for (const bad of ['', 'abc', '1.5x', '1e', '1Mi1', '1 Gi', '--1', 'Infinity', Number.NaN])
      assert.equal(canonicalQuantity(bad), undefined, `${String(bad)} is invalid`);
  });
});

describe('canonicalPodSpec', () => {
  it('canonicalises containers, initContainers, pod resources, overhead, emptyDir sizeLimit and claim templates', () => {
    const spec = {
      containers: [{ name: 'a', resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: 2 } } }],
      initContainers: [{ name: 'i', resources: { limits: { memory: '2048Ki' } } }],
      resources: { limits: { cpu: '0.5' } },
      overhead: { cpu: '250m', memory: '1000000' },
      volumes: [
        { name: 'tmp', emptyDir: { sizeLimit: '1024Mi' } },
        {
          name: 'eph',
          ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1024Gi' } } } } },
        },
        { name: 'cfg', configMap: { name: '1000m' } },
      ],
      nodeSelector: { size: '1000m' },
    };
    assert.equal(canonicalPodSpec(spec), spec, 'in place');
    assert.deepEqual(spec, {
      containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2' } } }],
      initContainers: [{ name: 'i', resources: { limits: { memory: '2Mi' } } }],
      resources: { limits: { cpu: '500m' } },
      overhead: { cpu: '250m', memory: '1M' },
      volumes: [
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'eph', ephemeral: { volumeClaimTemplate: { spec: { resources: { requests: { storage: '1Ti' } } } } } },
        { name: 'cfg', configMap: { name: '1000m' } },
      ],
      nodeSelector: { size: '1000m' },
    });
  });

  it('leaves an invalid quantity alone, or throws InvalidQuantity with its path when strict', () => {
    const spec = { containers: [{ name: 'a', resources: { limits: { cpu: 'lots' } } }] };
    canonicalPodSpec(spec);
    assert.equal(spec.containers[0]?.resources.limits.cpu, 'lots');
    assert.throws(
      () => canonicalPodSpec(spec, 'spec', true),
      (e: unknown) => e instanceof InvalidQuantity && e.path === 'spec.containers[0].resources.limits.cpu',
    );
  });
});
