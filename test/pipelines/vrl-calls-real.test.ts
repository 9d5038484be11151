/**
 * The tenant policy's VRL call lexer (`src/pipelines/vrl-calls.ts`) against the real VRL parser (the `vrl` crate of
 * Vector 0.48, through `tools/vrl-check`): on programs VRL parses, the lexer finds every function the parser sees
 * (it must never under-report: a missed call is a policy bypass), and no other, except where it over-reports on
 * purpose (`{{ }}` segments inside strings).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { vrlFunctionCalls } from '../../src/pipelines/vrl-calls.ts';
import { checkVrl, vrlSkip } from '../helpers/vrl.ts';

if (vrlSkip !== false) console.log(vrlSkip);

/** Programs a tenant might write to hide a call, each one valid VRL. */
const exact: string[] = [
  '.a = get_env_var("X")',
  '.a = get_env_var!("X")',
  '.a=upcase(string!(get_env_var("X")))',
  '.a = 1+get_env_var!("X")',
  '.\nget_env_var("X")',
  '.a = "get_env_var(\\"X\\")"\n.b = s\'get_env_var("X")\'',
  ".c = r'get_env_var\\('\n.d = t'2020-01-01T00:00:00Z'",
  '# get_env_var("X")\n.e = 1',
  '.get_env_var = 1\n%get_env_var = 2\n.a.get_env_var = 3\n.x = 1e3',
  '.a = .get_env_var',
  '.get_env_var\n(.a)\n%get_env_var\n(1)',
  '.a = "x" # c\n.b = get_env_var("Y")',
  '.a = match(string!(.m), r\'\\d+\') && get_hostname!() != ""',
  'for_each(object!(.)) -> |k, _v| { if k == "a" { .x = get_env_var!("T") } }',
  '.a = map_values(object!(.o)) -> |v| { downcase!(v) }',
  'if exists(.x) { .y = http_request("http://169.254.169.254/") } else { .z = dns_lookup!("h") }',
  '.a, err = get_env_var("X")\n.b = err',
  '.a = [get_env_var("A"), { "k": get_env_var("B") }]',
  '.m = parse_json!(string!(.message))\n.n = merge!(.m, {"a": 1})\ndel(.m)',
  '.bucket = mod(to_int!(parse_int!(slice!(md5(string!(.kubernetes.pod_namespace)), 0, 2), 16)), 4)',
  'abort',
  '.x = !exists(.y) && starts_with(string(.file) ?? "", "/var/log/pods/a_")',
];

/** Valid VRL on which the lexer over-reports on purpose: the real parser sees no call. */
const overReported: { program: string; extra: string[] }[] = [
  { program: '.a = "x {{ get_env_var("X") }} y"', extra: ['get_env_var'] },
];

describe('the VRL call lexer against the real VRL parser', { skip: vrlSkip }, () => {
  it('finds exactly the functions the parser sees, on programs written to hide them', () => {
    const real = checkVrl(exact.map((source, i) => ({ id: `p${i}`, kind: 'remap', source })));
    for (const [i, source] of exact.entries()) {
      const checked = real[i];
      assert.ok(checked !== undefined);
      assert.equal(checked.codes.includes(203), false, `the corpus program parses: ${source}\n${checked.diagnostics}`);
      const ours = [...new Set(vrlFunctionCalls(source))].sort();
      assert.deepEqual(ours, checked.functions, source);
    }
  });

  it('over-reports only where it says it does, and never misses a call', () => {
    const real = checkVrl(overReported.map(({ program }, i) => ({ id: `o${i}`, kind: 'remap', source: program })));
    for (const [i, { program, extra }] of overReported.entries()) {
      const checked = real[i];
      assert.ok(checked !== undefined);
      const ours = new Set(vrlFunctionCalls(program));
      for (const f of checked.functions) assert.ok(ours.has(f), `${f} missed in ${program}`);
      assert.deepEqual(
        [...ours].filter((f) => !checked.functions.includes(f)),
        extra,
      );
    }
  });
});
