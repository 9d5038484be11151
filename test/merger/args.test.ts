import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../src/merger/args.ts';

const spec = { config: 'string', 'data-dir': 'string', json: 'boolean' } as const;

describe('checkpoint-merger flags', () => {
  it('reads --name=value, --name value, and Go-style -name=value / -name value', () => {
    const flags = parseFlags(['--config=/a', '-data-dir', '/b', '--json'], spec);
    assert.deepEqual(
      [...flags],
      [
        ['config', '/a'],
        ['data-dir', '/b'],
        ['json', true],
      ],
    );
    assert.equal(parseFlags(['-config=/x=y'], spec).get('config'), '/x=y');
    assert.equal(parseFlags(['--config='], spec).get('config'), '');
  });

  it('refuses unknown flags, missing values, values on booleans and positional arguments, naming them', () => {
    assert.throws(() => parseFlags(['--nope'], spec), /unknown flag '--nope'/);
    assert.throws(() => parseFlags(['--config'], spec), /'--config' needs a value/);
    assert.throws(() => parseFlags(['--json=true'], spec), /'--json' takes no value/);
    assert.throws(() => parseFlags(['stray'], spec), /unexpected argument 'stray'/);
  });
});
