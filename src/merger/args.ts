/**
 * Command-line flags for `checkpoint-merger`. A deliberate second parser beside node:util's `parseArgs` (which the
 * vector-operator CLI uses): loading node:util costs ~5 ms, and the merger runs before every agent start.
 *
 * Accepted: `--name=value`, `--name value`, and Go's `-name=value` / `-name value` (as the kaasops operator passes
 * them); boolean flags take no value. Unknown flags, missing values and positional arguments are errors, as with
 * `parseArgs({ strict: true })`.
 */

export type FlagSpec = Readonly<Record<string, 'string' | 'boolean'>>;

class FlagError extends Error {
  override name = 'FlagError';
}

/** Flag values by name: strings for string flags, `true` for boolean flags present. */
export function parseFlags(args: readonly string[], spec: FlagSpec): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const m = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new FlagError(`unexpected argument '${arg}'`);
    const name = m[1] as string;
    const kind = spec[name];
    if (kind === undefined) throw new FlagError(`unknown flag '--${name}'`);
    if (kind === 'boolean') {
      if (m[2] !== undefined) throw new FlagError(`flag '--${name}' takes no value`);
      out.set(name, true);
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = args[i + 1];
      if (value === undefined) throw new FlagError(`flag '--${name}' needs a value`);
      i++;
    }
    out.set(name, value);
  }
  return out;
}
