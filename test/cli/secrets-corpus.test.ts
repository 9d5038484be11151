/**
 * The kaasops-style corpus for pipeline secrets (`test/corpus/secrets/`): manifests written the way kaasops documents
 * `spec.secret`, each rendered with the corpus' Vector by the `render` command, each behaving as its header says:
 * `# expect: ok` with the config fragments (`expect-config`, `expect-no-config`) and the assets Secret's keys
 * (`expect-assets`, from `render --objects`), or `# expect-error:` with the message, which names the pipeline and
 * the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { cli } from '../helpers/cli.ts';

const dir = fileURLToPath(new URL('../corpus/secrets/', import.meta.url));
const vector = `${dir}vector.yaml`;

function expectations(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/^# (expect(?:-[a-z-]+)?):(.*)$/gm)) {
    const key = m[1] as string;
    out.set(key, [...(out.get(key) ?? []), (m[2] as string).trim()]);
  }
  return out;
}

describe('pipeline secrets: the kaasops-style corpus renders as documented', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'vector.yaml');
  it('holds the documented cases', () => {
    assert.ok(files.length >= 12, files.join(', '));
  });
  for (const file of files.sort()) {
    const path = `${dir}${file}`;
    const want = expectations(readFileSync(path, 'utf8'));
    it(file, async () => {
      const r = await cli(['render', '-f', vector, '-f', path]);
      const error = want.get('expect-error');
      if (error !== undefined) {
        assert.equal(r.status, 1, r.stdout);
        for (const e of error) assert.ok(r.stderr.includes(`error: ${e}`), `${e}\n--- stderr:\n${r.stderr}`);
        return;
      }
      assert.deepEqual(want.get('expect'), ['ok'], 'a header says what to expect');
      assert.equal(r.status, 0, r.stderr);
      for (const frag of want.get('expect-config') ?? []) assert.ok(r.stdout.includes(frag), `${frag} in ${r.stdout}`);
      for (const frag of want.get('expect-no-config') ?? []) assert.ok(!r.stdout.includes(frag), frag);
      const objects = await cli(['render', '-f', vector, '-f', path, '--objects']);
      assert.equal(objects.status, 0, objects.stderr);
      const assets = parseAllDocuments(objects.stdout)
        .map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> })
        .find((o) => o.kind === 'Secret' && o.metadata.name === 'vector-agent-secret-assets');
      const keys = (want.get('expect-assets') ?? [''])[0]?.split(',').filter((k) => k !== '') ?? [];
      assert.deepEqual(Object.keys(assets?.data ?? {}), keys);
    });
  }
});
