/**
 * Defaults of Vector's `kubernetes_logs` source that its checkpoints depend on (reference: vector-checkpoints.md §3).
 *
 * A module of its own so that reading a config does not load the fingerprinting code (and build its CRC tables):
 * the checkpoint merger reads the config at every agent start, and most starts fingerprint nothing.
 */

/** `max_line_bytes`: the first line is hashed up to this many bytes. */
export const KUBERNETES_LOGS_MAX_LINE_BYTES = 32 * 1024;
