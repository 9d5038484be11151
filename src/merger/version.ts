/**
 * The merger's own version. It names the merger image tag, so it changes only when the merger changes: an operator
 * upgrade that leaves it alone leaves every agent's pod template, and so every agent, alone.
 */
export const MERGER_VERSION = '0.1.0';
