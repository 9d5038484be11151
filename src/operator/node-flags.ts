/**
 * The Node flags the operator image starts the operator with: its ENTRYPOINT is `node <flags> vector-operator.js`
 * (deploy/docker/operator.Dockerfile; a test checks that the two agree and that this Node accepts them). The
 * real-scale bench runs the operator with them, so that the memory it measures is what ships.
 *
 * Without them, on a node with plenty of memory, V8 sizes its heap from the host and collects late: at 10 000
 * pipelines the status writes of a first sync grew the heap from about 100 to 480 MiB of mostly garbage, for a live
 * heap of 105 to 130 MiB, and the young generation alone took up to 128 MiB (peak RSS 700 to 780 MiB).
 * - `--max-semi-space-size=8`: a young generation of at most 16 MiB. Its collections get more frequent and stay short.
 * - `--heap-growing-percent=50`: after each full collection the old generation may grow to 1.5 times what survived,
 *   not up to 4 times. The limit follows the live heap, so it scales with the cluster and leaves Node's own sizing
 *   from the container's memory limit in place, where a fixed `--max-old-space-size` would not.
 * Together: peak RSS 384 MiB at 10 000 pipelines and 1 000 agent pods (docs/benchmarks.md).
 */
export const OPERATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=50'];
