/**
 * The stand's scenario names, apart from their definitions (catalog.ts), so that `vector-operator lab --help` and
 * its flag checks load nothing heavy. catalog.ts's table `satisfies` this list: a name here without a scenario there,
 * or the reverse, does not compile.
 */
export const scenarioNames = [
  'switch-no-migration',
  'switch-migration',
  'switch-migration-log-namespace',
  'switch-migration-docker',
  'rollback-migration',
  'restart-flags-off',
  'restart-flags-on',
  'enable-migration-optimized',
  'deleted-pod-backlog',
  'lagging-min',
  'lagging-max',
  'rename-group-1-to-2',
  'rename-group-1-to-2-no-migration',
  'rename-group-2-to-1',
  'rename-opt-out',
  'rename-chunk-boundary',
  'stuck-sink-switch',
  'stuck-sink-switch-short-grace',
  'aggregator-roll',
  'aggregator-roll-stuck-sink',
  'aggregator-roll-stuck-sink-acks',
] as const;

export type ScenarioName = (typeof scenarioNames)[number];
