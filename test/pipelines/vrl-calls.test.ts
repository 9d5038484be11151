/** Finding the functions a VRL program calls, the way a tenant would try to hide one. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { vrlFunctionCalls } from '../../src/pipelines/vrl-calls.ts';

describe('VRL function calls', () => {
  it('finds plain, fallible (`!`) and spaced calls, nested and after operators', () => {
    assert.deepEqual(vrlFunctionCalls('.a = get_env_var("X")'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a = get_env_var!("X")'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a = get_env_var ! ("X")'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a=upcase(string!(get_env_var("X")))'), ['upcase', 'string', 'get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a = 1+get_env_var("X")'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.\nget_env_var("X")'), ['get_env_var']);
  });

  it('does not count names inside strings, raw strings, regexes, timestamps or comments', () => {
    const program = [
      '.a = "get_env_var(\\"X\\")"',
      '.b = s\'get_env_var("X")\'',
      ".c = r'get_env_var\\('",
      ".d = t'2020-01-01T00:00:00Z'",
      '# get_env_var("X")',
      '.e = "a \\" get_env_var("',
      ".f = s'it\\'s get_env_var('",
    ].join('\n');
    assert.deepEqual(vrlFunctionCalls(program), []);
  });

  it('does not count path segments (`.get_env_var`, `%get_env_var`, `.a.get_env_var`) or numbers', () => {
    assert.deepEqual(vrlFunctionCalls('.get_env_var = 1\n%get_env_var = 2\n.a.get_env_var = 3\n.x = 1e3'), []);
    assert.deepEqual(vrlFunctionCalls('.a = .get_env_var'), []);
    // A path, then a parenthesised expression on the next line: two expressions, no call.
    assert.deepEqual(vrlFunctionCalls('.get_env_var\n(.a)\n%get_env_var\n(1)'), []);
  });

  it('scans code after a string, regex or comment ends', () => {
    assert.deepEqual(vrlFunctionCalls('.a = "x" # c\n.b = get_env_var("Y")'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a = match(.m, r\'\\d+\') && get_hostname!() != ""'), ['match', 'get_hostname']);
  });

  it('scans `{{ }}` template segments of strings as code', () => {
    assert.deepEqual(vrlFunctionCalls('.a = "x {{ get_env_var("X") }} y"'), ['get_env_var']);
    assert.deepEqual(vrlFunctionCalls('.a = "{{ .field }}"'), []);
  });

  it('finds calls inside closures and blocks', () => {
    const program = 'for_each(object!(.)) -> |k, v| { if k == "a" { .x = get_env_var!("T") } }';
    assert.deepEqual(vrlFunctionCalls(program), ['for_each', 'object', 'get_env_var']);
  });

  it('stops at an unterminated string or comment without throwing', () => {
    assert.deepEqual(vrlFunctionCalls('.a = "get_env_var('), []);
    assert.deepEqual(vrlFunctionCalls("upcase(s'x"), ['upcase']);
  });
});
