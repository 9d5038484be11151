/**
 * The stand's log: a message and its fields. Every component of the stand (nodes, controllers, Vector simulators)
 * logs through one, which the scenario routes to its progress output. The operator's `Logger` (pino's shape) and the
 * merger's (dependency-free JSON lines) are the product's own and stay separate.
 */
export type StandLog = (msg: string, fields?: Record<string, unknown>) => void;
