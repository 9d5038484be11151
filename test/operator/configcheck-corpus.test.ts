/**
 * The kaasops-style corpus for config checks (`test/corpus/configcheck/`): each file is a Vector and its pipelines
 * as a kaasops user writes them, with a header saying what kaasops documents for them. Each file runs on a fresh
 * stand-in with the operator started from the header's kaasops-style `flags:` (through `run`'s own flag parsing),
 * the `status` kaasops had recorded written first, and test/helpers/configcheck-kubelet.ts answering the check pods.
 *
 * Header lines (`# key[ arg]: value`):
 * - `flags:` the operator's arguments; `status <ns>/<name>:` a pipeline status written before the operator starts;
 * - `expect-pod <JSON pointer>:` a field of every check pod (`absent`: not set);
 * - `expect-pods:` the number of check pods; `expect-pipeline-pods <ns>/<name>:` how often that pipeline was checked
 *   (`>=N`: at least); `expect-retry-gap-ms <ns>/<name>:` the least time between two of its checks;
 * - `expect-valid <ns>/<name>:`, `expect-reason <ns>/<name>:` (a fragment), `expect-config:` /
 *   `expect-no-config:` (a component id of the published agent config).
 *
 * Counts are taken after a barrier: a pipeline created once everything else settled, published by the Vector, so
 * every check the files' objects caused has run; the barrier's own checks are not counted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/kube/client.ts';
import { operatorOptionsFor } from '../../src/cli/run.ts';
import type { PipelineStatus } from '../../src/pipelines/schemas.ts';
import { configCheckKubelet, type CheckedPod } from '../helpers/configcheck-kubelet.ts';
import {
  agentJson,
  eventually,
  operator,
  secretPath,
  silent,
  startStand,
  vectorPath,
  vpObj,
  vpPath,
  type Stand,
} from './stand.ts';

const dir = fileURLToPath(new URL('../corpus/configcheck/', import.meta.url));

interface Header {
  key: string;
  arg: string;
  value: string;
}

function headers(text: string): Header[] {
  const out: Header[] = [];
  for (const m of text.matchAll(/^# (flags|status|expect-[a-z-]+)(?: (\S+))?: (.*)$/gm))
    out.push({ key: m[1] as string, arg: m[2] ?? '', value: (m[3] as string).trim() });
  return out;
}

const all = (hs: readonly Header[], key: string): Header[] => hs.filter((h) => h.key === key);

/** RFC 6901: `/a/b~1c/0`. */
function pointer(obj: unknown, path: string): unknown {
  let at: unknown = obj;
  for (const raw of path.split('/').slice(1)) {
    const k = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    at = at === null || typeof at !== 'object' ? undefined : (at as Record<string, unknown>)[k];
  }
  return at;
}

interface CheckLog {
  pipeline: string;
  at: number;
}

/** A logger that keeps each per-pipeline check's start: `VectorPipeline ns/name` and when. */
function checkLog(): { log: typeof silent; checks: CheckLog[] } {
  const checks: CheckLog[] = [];
  return {
    checks,
    log: {
      ...silent,
      info: (obj, msg) => {
        const p = (obj as { pipeline?: string }).pipeline;
        if (msg.includes('Started ConfigCheck') && p !== undefined) checks.push({ pipeline: p, at: Date.now() });
      },
    },
  };
}

const barrier = 'zz-barrier';
const isBarrierPod = (p: CheckedPod): boolean =>
  Object.keys(p.config.sources).some((id) => id.startsWith(`vector-${barrier}-`));

async function create(stand: Stand, objects: KubeObject[], statuses: readonly Header[]): Promise<void> {
  for (const o of objects) {
    const ns = o.metadata?.namespace ?? '';
    await stand.create(o.kind === 'Vector' ? vectorPath(ns) : vpPath(ns), o);
  }
  for (const s of statuses) {
    const [ns, name] = s.arg.split('/') as [string, string];
    await stand.patch(`${vpPath(ns, name)}/status`, { status: JSON.parse(s.value) as unknown });
  }
}

async function settled(stand: Stand, hs: readonly Header[], checks: readonly CheckLog[]): Promise<void> {
  const status = async (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    return (await stand.get<{ status?: PipelineStatus }>(vpPath(ns, name)))?.status;
  };
  await eventually('the statuses, the config and the repeated checks the header expects', async () => {
    for (const h of all(hs, 'expect-valid'))
      if ((await status(h.arg))?.configCheckResult !== (h.value === 'true')) return false;
    const config = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
    const ids = new Set(Object.keys({ ...config?.sources, ...config?.transforms, ...config?.sinks }));
    if (all(hs, 'expect-config').some((h) => !ids.has(h.value))) return false;
    if (all(hs, 'expect-no-config').some((h) => ids.has(h.value))) return false;
    for (const h of all(hs, 'expect-pipeline-pods').filter((x) => x.value.startsWith('>=')))
      if (checks.filter((c) => c.pipeline === `VectorPipeline ${h.arg}`).length < Number(h.value.slice(2)))
        return false;
    return true;
  });
  await stand.create(vpPath('vector'), vpObj('vector', barrier));
  await eventually('the barrier published', async () => {
    const config = agentJson(await stand.get(secretPath('vector', 'logs-agent')));
    return config?.sources?.[`vector-${barrier}-pods`] !== undefined;
  });
}

async function assertCase(
  stand: Stand,
  hs: readonly Header[],
  pods: readonly CheckedPod[],
  checks: readonly CheckLog[],
): Promise<void> {
  const counted = pods.filter((p) => !isBarrierPod(p));
  assert.ok(counted.length > 0 || hs.some((h) => h.key === 'expect-pods' && h.value === '0'), 'a check pod ran');
  for (const h of all(hs, 'expect-pod'))
    for (const p of counted) {
      const got = pointer({ metadata: p.metadata, spec: p.spec }, h.arg);
      if (h.value === 'absent') assert.equal(got, undefined, `${h.arg} of ${p.name}`);
      else assert.deepEqual(got, JSON.parse(h.value), `${h.arg} of ${p.name}`);
    }
  for (const h of all(hs, 'expect-pods')) assert.equal(counted.length, Number(h.value), 'check pods');
  for (const h of all(hs, 'expect-pipeline-pods')) {
    const n = checks.filter((c) => c.pipeline === `VectorPipeline ${h.arg}`).length;
    if (h.value.startsWith('>=')) assert.ok(n >= Number(h.value.slice(2)), `${h.arg} checked ${String(n)} times`);
    else assert.equal(n, Number(h.value), `checks of ${h.arg}`);
  }
  for (const h of all(hs, 'expect-retry-gap-ms')) {
    const at = checks.filter((c) => c.pipeline === `VectorPipeline ${h.arg}`).map((c) => c.at);
    for (let i = 1; i < at.length; i++)
      assert.ok((at[i] as number) - (at[i - 1] as number) >= Number(h.value), `checks of ${h.arg} at ${at.join()}`);
  }
  for (const h of all(hs, 'expect-reason')) {
    const [ns, name] = h.arg.split('/') as [string, string];
    const s = (await stand.get<{ status?: PipelineStatus }>(vpPath(ns, name)))?.status;
    assert.ok(s?.reason?.includes(h.value), `${h.value}\nin: ${s?.reason ?? ''}`);
  }
}

describe('config checks: the kaasops-style corpus behaves as kaasops documents', () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  it('holds the documented cases, each saying what kaasops does', () => {
    assert.ok(files.length >= 7, files.join(', '));
    for (const f of files) assert.match(readFileSync(`${dir}${f}`, 'utf8'), /^# kaasops/, f);
  });
  for (const file of files)
    it(file, async () => {
      const text = readFileSync(`${dir}${file}`, 'utf8');
      const hs = headers(text);
      assert.ok(
        hs.some((h) => h.key.startsWith('expect-')),
        'a header says what to expect',
      );
      const objects = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
      const options = operatorOptionsFor(all(hs, 'flags').flatMap((h) => h.value.split(/\s+/)));
      if (typeof options === 'string') assert.fail(options);
      const namespaces = [...new Set(['vector', ...objects.map((o) => o.metadata?.namespace ?? '')])];
      const stand = await startStand(undefined, namespaces);
      const kubelet = configCheckKubelet(stand);
      const { log, checks } = checkLog();
      const op = operator(stand, { ...options, resyncMs: 0, log });
      try {
        await create(stand, objects, all(hs, 'status'));
        await op.start();
        await settled(stand, hs, checks);
        await assertCase(stand, hs, kubelet.seen, checks);
      } finally {
        await op.stop();
        await kubelet.stop();
        await stand.close();
      }
    });
});
