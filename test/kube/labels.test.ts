import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorProblem, matchesLabels, parseLabelSelector } from '../../src/kube/labels.ts';
import { selectorNamespaces } from '../../src/merger/selector.ts';

const namespacesOfSelector = (s: string | undefined): string[] | null => selectorNamespaces(s).namespaces;

const matches = (selector: string, labels: Record<string, string>): boolean =>
  matchesLabels(parseLabelSelector(selector), labels);

describe('label selectors (one grammar for the whole project)', () => {
  it('parses every operator, with set values and top-level commas only', () => {
    assert.deepEqual(parseLabelSelector('a, !b, c=1, d==2, e!=3, f in (x, y), g notin (z), h>4, i<-5'), [
      { op: 'exists', key: 'a' },
      { op: '!exists', key: 'b' },
      { op: '=', key: 'c', value: '1' },
      { op: '=', key: 'd', value: '2' },
      { op: '!=', key: 'e', value: '3' },
      { op: 'in', key: 'f', values: ['x', 'y'] },
      { op: 'notin', key: 'g', values: ['z'] },
      { op: '>', key: 'h', value: 4 },
      { op: '<', key: 'i', value: -5 },
    ]);
    assert.deepEqual(parseLabelSelector('  '), []);
    assert.deepEqual(parseLabelSelector('a in (x, y),b,c notin (z)'), [
      { op: 'in', key: 'a', values: ['x', 'y'] },
      { op: 'exists', key: 'b' },
      { op: 'notin', key: 'c', values: ['z'] },
    ]);
  });

  it('names the problem in a malformed selector', () => {
    assert.match(labelSelectorProblem('a in (x') ?? '', /unbalanced '\('/);
    assert.match(labelSelectorProblem('a in (x,(y))') ?? '', /unbalanced '\('/);
    assert.match(labelSelectorProblem('a in (x)),b') ?? '', /unbalanced '\)'/);
    assert.match(labelSelectorProblem('a),b in (x)') ?? '', /unbalanced '\)'/);
    assert.match(labelSelectorProblem('a in (x)(y)') ?? '', /cannot parse/);
    assert.match(labelSelectorProblem('a,,b') ?? '', /empty requirement/);
    assert.match(labelSelectorProblem('bad key!=x=y') ?? '', /cannot parse/);
    assert.match(labelSelectorProblem('-bad=1') ?? '', /invalid label key '-bad'/);
    assert.match(labelSelectorProblem('UPPER.example/x=1') ?? '', /invalid label key prefix/);
    assert.match(labelSelectorProblem('a=-bad-') ?? '', /invalid label value/);
    assert.match(labelSelectorProblem('a>x') ?? '', /needs an integer/);
    assert.match(labelSelectorProblem('a in ()') ?? '', /needs at least one value/);
    assert.equal(labelSelectorProblem('kubernetes.io/metadata.name in (a,b),team!=x'), undefined);
  });

  it('matches like an API server: != and notin also match objects without the label', () => {
    assert.equal(matches('team=a', { team: 'a' }), true);
    assert.equal(matches('team=a', {}), false);
    assert.equal(matches('team!=a', {}), true);
    assert.equal(matches('team notin (a)', {}), true);
    assert.equal(matches('team in (a,b)', { team: 'b' }), true);
    assert.equal(matches('tier>2', { tier: '3' }), true);
    assert.equal(matches('tier>2', { tier: 'x' }), false);
    assert.equal(matches('a,!b', { a: '' }), true);
    assert.equal(matches('a,!b', { a: '', b: '' }), false);
  });

  it('scopes a kubernetes_logs source to the namespaces its selector can read, never narrower', () => {
    assert.deepEqual(namespacesOfSelector('kubernetes.io/metadata.name=ns-a'), ['ns-a']);
    assert.deepEqual(namespacesOfSelector('kubernetes.io/metadata.name in (b, a),team=x'), ['a', 'b']);
    assert.deepEqual(namespacesOfSelector('kubernetes.io/metadata.name in (a,b),kubernetes.io/metadata.name=b'), ['b']);
    assert.equal(namespacesOfSelector('kubernetes.io/metadata.name notin (a)'), null);
    assert.equal(namespacesOfSelector('team=x'), null);
    assert.equal(namespacesOfSelector(undefined), null);
    assert.equal(namespacesOfSelector('kubernetes.io/metadata.name in (a'), null);
  });

  it('calls a selector exact only when it holds nothing but namespace-name requirements', () => {
    const exact = (s: string | undefined): boolean => selectorNamespaces(s).exact;
    assert.equal(exact('kubernetes.io/metadata.name=ns-a'), true);
    assert.equal(exact('kubernetes.io/metadata.name in (b, a)'), true);
    assert.equal(exact('kubernetes.io/metadata.name in (a,b),kubernetes.io/metadata.name=b'), true);
    assert.equal(exact(undefined), true, 'no selector: every namespace');
    assert.equal(exact(''), true);
    assert.equal(exact('kubernetes.io/metadata.name in (b, a),team=x'), false);
    assert.equal(exact('kubernetes.io/metadata.name notin (a)'), false);
    assert.equal(exact('team=x'), false);
    assert.equal(exact('kubernetes.io/metadata.name in (a'), false);
  });

  it('reads a one-namespace selector exactly as the full grammar does, at every edge of its shortcut', () => {
    const name = 'kubernetes.io/metadata.name';
    const v63 = `a${'b'.repeat(61)}c`;
    const cases: [string, string[] | null][] = [
      [`${name}=ns-a`, ['ns-a']],
      [`${name}==ns-a`, ['ns-a']],
      [`${name} = ns-a`, ['ns-a']],
      [` ${name}=ns-a `, ['ns-a']],
      [`${name}=A.b_c`, ['A.b_c']],
      [`${name}=${v63}`, [v63]],
      [`${name}=${v63}d`, null],
      [`${name}=-ns`, null],
      [`${name}=ns.`, null],
      [`${name}=`, []],
      [`${name}!=ns-a`, null],
      [`${name}=ns-a,team=x`, ['ns-a']],
      [`${name}=a,${name}=b`, []],
      [`x${name}=ns-a`, null],
      [`${name}x=ns-a`, null],
    ];
    for (const [selector, expected] of cases) assert.deepEqual(namespacesOfSelector(selector), expected, selector);
  });
});
