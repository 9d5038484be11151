/**
 * The Node flags the merger image starts the merger with: its ENTRYPOINT is `node <flags> checkpoint-merger.cjs`
 * (deploy/docker/checkpoint-merger.Dockerfile; a test checks that the two agree). The bench and the stand run the
 * merger with them too, so that what they measure and exercise is what ships.
 *
 * `--v8-pool-size=1`: one V8 background thread, not Node's default four. The merger is one short single-threaded run
 * in a container limited to one CPU, and V8's workers (parallel scavenges, concurrent compiles) only contended
 * with it for the cores: on a 2-core machine, dropping them took 4 to 10 ms off the median at 1000 namespaces and most
 * of the run-to-run spread, and more at 10 000 (docs/benchmarks.md).
 */
export const MERGER_NODE_FLAGS: readonly string[] = ['--v8-pool-size=1'];
