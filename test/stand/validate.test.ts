/**
 * The stand's `vector validate` (lab/vector-sim/validate.ts): what a configcheck pod on the stand accepts and refuses,
 * and what it prints. The VRL part runs only where the VRL checker is built (`npm run build:vrl`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigText, validateOutput, vrlChecker, vrlPrograms } from '../../lab/vector-sim/validate.ts';
import type { VectorConfig } from '../../src/vector/config.ts';
import { vrlSkip } from '../helpers/vrl.ts';

const config = (transforms: VectorConfig['transforms'], sinkType = 'blackhole'): string =>
  JSON.stringify({
    data_dir: '/vector-data-dir',
    api: { address: '0.0.0.0:8686' },
    sources: { in: { type: 'kubernetes_logs' } },
    transforms,
    sinks: { out: { type: sinkType, inputs: Object.keys(transforms).length > 0 ? Object.keys(transforms) : ['in'] } },
  });

describe("the stand's vector validate", () => {
  it('accepts a complete config and refuses a broken graph or an unknown type, as Vector words it', () => {
    assert.deepEqual(validateConfigText(config({}), undefined), []);
    assert.deepEqual(validateConfigText(config({}, 'bogus_sink'), undefined), [
      'unknown variant `bogus_sink` for key `sinks.out.type`',
    ]);
    const dangling = validateConfigText(config({ t: { type: 'remap', inputs: ['nowhere'], source: '.' } }), undefined);
    assert.equal(dangling.length, 1);
    assert.match(dangling[0] ?? '', /transforms "t": .*nowhere/);
    assert.match(validateConfigText('{', undefined)[0] ?? '', /^invalid JSON/);
  });

  it('prints what Vector prints', () => {
    assert.match(
      validateOutput(['/etc/vector/config.json'], []),
      /^√ Loaded \["\/etc\/vector\/config.json"\]\n[\s\S]*Validated\n$/,
    );
    assert.equal(
      validateOutput(['/etc/vector/config.json'], ['a', 'b']),
      'Failed to load ["/etc/vector/config.json"]\n------------------------------------------\nx a\nx b\n',
    );
  });

  it('finds every VRL program: remap sources, filter and route conditions', () => {
    const programs = vrlPrograms(
      JSON.parse(
        config({
          r: { type: 'remap', inputs: ['in'], source: '.a = 1' },
          f: { type: 'filter', inputs: ['r'], condition: { type: 'vrl', source: '.a == 1' } },
          route: { type: 'route', inputs: ['f'], route: { x: '.b == 2', y: { type: 'vrl', source: 'true' } } },
        }),
      ) as VectorConfig,
    );
    assert.deepEqual(
      programs.map((p) => [p.kind, p.source, p.label]),
      [
        ['remap', '.a = 1', 'Transform "r"'],
        ['condition', '.a == 1', 'Transform "f"'],
        ['condition', '.b == 2', 'Transform "route" route "x"'],
        ['condition', 'true', 'Transform "route" route "y"'],
      ],
    );
  });

  it('refuses a remap that does not compile, with the compiler diagnostics', { skip: vrlSkip }, () => {
    const checker = vrlChecker();
    const ok = config({ r: { type: 'remap', inputs: ['in'], source: '.a = 1' } });
    assert.deepEqual(validateConfigText(ok, checker), []);
    const bad = validateConfigText(config({ r: { type: 'remap', inputs: ['in'], source: '.a = ' } }), checker);
    assert.equal(bad.length, 1);
    assert.match(bad[0] ?? '', /^Transform "r": \nerror\[E204\]: syntax error/);
    const secret = config({ r: { type: 'remap', inputs: ['in'], source: '.a = get_secret("x")' } });
    assert.deepEqual(validateConfigText(secret, checker), [], "Vector's own functions are not held against it");
  });
});
