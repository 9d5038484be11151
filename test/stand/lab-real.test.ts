/**
 * `vector-operator lab --kube real`, small: the stand's scenarios on etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler. The real DaemonSet controller and scheduler roll the agents over the stand's kubelets; the figures
 * must be those of the stand-in lane (no loss and no duplicate with migration, every retained line again without),
 * and the report must name the API server's version. Skipped, with the build command, when the binaries are not
 * built; mandatory with KUBE_TARGET=both or real.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VERSION } from '../../lab/kube-real/binaries.ts';
import type { LabReport } from '../../lab/report/report.ts';
import { runBin } from '../helpers/bin.ts';
import { realLaneSkip } from '../helpers/kube-target.ts';

describe('vector-operator lab --kube real', { skip: realLaneSkip() }, () => {
  it('switches with and without migration on the real control plane, and the report names its version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-real-'));
    try {
      const json = join(dir, 'lab.json');
      const html = join(dir, 'lab.html');
      const r = runBin(
        'vector-operator',
        [
          'lab',
          '--kube',
          'real',
          '--pipelines',
          '4',
          '--nodes',
          '2',
          '--scenario',
          'switch-migration',
          '--scenario',
          'switch-no-migration',
          '--json',
          json,
          '--html',
          html,
        ],
        { timeout: 900_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(json, 'utf8')) as LabReport;
      assert.equal(report.kube.target, 'real');
      assert.equal(report.kube.gitVersion, KUBE_VERSION);
      assert.match(r.stdout, new RegExp(`API server: kube-apiserver ${KUBE_VERSION.replaceAll('.', '\\.')} `));
      assert.match(readFileSync(html, 'utf8'), new RegExp(`kube-apiserver ${KUBE_VERSION.replaceAll('.', '\\.')}`));
      const byName = new Map(report.scenarios.map((s) => [s.name, s]));
      for (const s of report.scenarios) {
        assert.equal(s.server.gitVersion, KUBE_VERSION);
        for (const ph of s.phases) {
          assert.equal(ph.settled, true, `${s.name}/${ph.label} settled`);
          assert.equal(ph.agentWatches, 3 * ph.sources * 2, `${s.name}/${ph.label}: 3 watches per source per node`);
        }
      }
      const migration = byName.get('switch-migration');
      assert.ok(migration !== undefined);
      assert.equal(migration.drained, true);
      assert.deepEqual(
        { duplicated: migration.totals.duplicated, lost: migration.totals.lost },
        { duplicated: 0, lost: 0 },
      );
      assert.ok(migration.totals.written > 0);
      assert.equal(migration.phases[1]?.agentRestarts, 2, 'the rollout replaced one agent per node');
      assert.ok(
        migration.phases[1].mergers.every((m) => typeof m.summary === 'object' && m.summary.outcome === 'migrated'),
        JSON.stringify(migration.phases[1].mergers),
      );
      const plain = byName.get('switch-no-migration');
      assert.ok(plain !== undefined);
      assert.ok(plain.retainedAtSwitch > 0);
      assert.equal(plain.totals.lost, 0);
      assert.equal(plain.phases[1]?.agentRestarts, 0, 'a live reload, no rollout');
      assert.equal(plain.totals.duplicated, plain.retainedAtSwitch, 'every retained line read again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
