/**
 * The prelude of the operator's integration suites: one `describe` per target (test/helpers/kube-target.ts), named
 * `<title> (stand-in)` and `<title> (real)`, each with a fresh stand (test/operator/stand.ts) of its own.
 *
 * Invariants:
 * - The stand starts before the body's own `before` hooks and closes after the body's own `after` hooks, so what a
 *   body starts on the stand (an operator, a kubelet) is stopped while the API server still answers.
 * - A target's own skip reason (its binaries are not built, `KUBE_TARGET`) wins over the suite's `skip`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { configCheckKubelet } from '../helpers/configcheck-kubelet.ts';
import { kubeTargets, type KubeTarget } from '../helpers/kube-target.ts';
import { startStand, type Stand, type StandOptions } from './stand.ts';

export interface StandSuiteOptions {
  /** The namespaces the stand creates; startStand's default (`vector`, `team-a`, `team-b`) when left out. */
  namespaces?: string[];
  stand?: StandOptions;
  /** A further reason to skip the suite on a target, or false. */
  skip?: (target: KubeTarget) => string | false;
}

/**
 * Declares the suite once per target. The body gets `stand`, a getter rather than the Stand itself: the stand
 * exists only once the suite's `before` has run, so call `stand()` inside hooks and tests, never in the body's
 * own top level (there it throws).
 */
export function standSuite(
  title: string,
  options: StandSuiteOptions,
  body: (stand: () => Stand, target: KubeTarget) => void,
): void {
  for (const target of kubeTargets())
    describe(`${title} (${target.name})`, { skip: target.skip || (options.skip?.(target) ?? false) }, () => {
      let current: Stand | undefined;
      before(async () => {
        current = await startStand(target, options.namespaces, options.stand);
      });
      const stand = (): Stand => {
        if (current === undefined) throw new Error(`${title}: the stand is not started yet (call stand() in a test)`);
        return current;
      };
      body(stand, target);
      // node:test runs `after` hooks in the order they were added: this one, added last, runs last.
      after(async () => {
        await current?.close();
      });
    });
}

/**
 * For a suite that runs processes against its stand (`vector-operator run`, kubectl): a kubeconfig file for the
 * stand, in a temporary directory of its own (a process's `HOME` too) that is removed after the suite. Call it in a
 * `standSuite` body; the getter gives the file's path once the body's tests run.
 */
export function kubeconfigFile(stand: () => Stand, prefix: string): () => string {
  let dir: string | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    stand().writeKubeconfig(join(dir, 'kubeconfig'));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('the kubeconfig file is written before the tests: call this in a test');
    return join(dir, 'kubeconfig');
  };
}

/**
 * For a suite that spawns `vector-operator run` against its stand: a kubeconfig file (kubeconfigFile), and a kubelet
 * that answers the configcheck pods, since config checks are on by default and no node runs pods here
 * (test/helpers/configcheck-kubelet.ts). Returns the kubeconfig's path, as kubeconfigFile does.
 */
export function operatorProcessHooks(stand: () => Stand, prefix: string): () => string {
  const kubeconfig = kubeconfigFile(stand, prefix);
  let kubelet: ReturnType<typeof configCheckKubelet> | undefined;
  before(() => {
    kubelet = configCheckKubelet(stand());
  });
  after(async () => {
    await kubelet?.stop();
  });
  return kubeconfig;
}
