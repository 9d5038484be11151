/**
 * Shared input handling for `render` and `plan`: read YAML/JSON manifests from files and directories, parse them into
 * Vectors and pipelines, and pick the Vector to work on. The only I/O here is reading the given paths.
 *
 * Directories are walked recursively in sorted order, taking `*.yaml`, `*.yml` and `*.json`, so the result does not
 * depend on the filesystem's listing order. `*.json` files (e.g. `kubectl get vp -A -o json`) take the JSON.parse fast
 * path: JSON.parse is faster still than the YAML parser.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { CORE_SCHEMA, loadAll, YAMLException } from 'js-yaml';
import { parseManifests, type ManifestDoc, type ParsedManifests, type ParseOptions } from '../pipelines/manifests.ts';
import type { Aggregator } from '../pipelines/aggregator-schemas.ts';
import type { Vector } from '../pipelines/schemas.ts';
import type { Io } from './io.ts';

export class InputError extends Error {
  override name = 'InputError';
}

function filesUnder(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path).sort()) {
    const full = join(path, entry);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full));
    else if (/\.(ya?ml|json)$/.test(entry)) out.push(full);
  }
  return out;
}

function yamlProblem(err: unknown): string {
  if (!(err instanceof YAMLException)) return (err as Error).message;
  const at = err.mark === undefined ? '' : `line ${err.mark.line + 1}, column ${err.mark.column + 1}: `;
  return `${at}${err.reason}`;
}

function readManifestDocs(paths: readonly string[]): ManifestDoc[] {
  const docs: ManifestDoc[] = [];
  for (const path of paths) {
    for (const file of filesUnder(path)) {
      const text = readFileSync(file, 'utf8');
      if (file.endsWith('.json')) {
        // JSON is YAML too, but JSON.parse is ~50x faster than the YAML parser on a large `kubectl get -o json` dump.
        try {
          docs.push({ origin: file, value: JSON.parse(text) as unknown });
        } catch (err) {
          throw new InputError(`${file}: ${(err as Error).message}`);
        }
        continue;
      }
      // js-yaml reads 10 000 manifests ~10x faster than the `yaml` library (which we keep for writing YAML).
      // The YAML 1.2 core schema: no implicit timestamps or other types beyond JSON's; duplicate keys are errors.
      let list: unknown[];
      try {
        list = loadAll(text, { schema: CORE_SCHEMA, filename: file });
      } catch (err) {
        throw new InputError(`${file}: ${yamlProblem(err)}`, { cause: err });
      }
      list.forEach((value, i) => {
        docs.push({ origin: `${file}#${i + 1}`, value });
      });
    }
  }
  return docs;
}

/**
 * Reads and parses the manifests. `warn` gets each object and field left out (before an error is thrown, so a user
 * sees both); `namespace` is `--namespace`, for namespaced objects that carry none.
 */
export function loadManifests(
  paths: readonly string[],
  options: ParseOptions = {},
  warn: (line: string) => void = () => {},
): ParsedManifests {
  if (paths.length === 0) throw new InputError('no input: pass -f PATH (a file or a directory of manifests)');
  const parsed = parseManifests(readManifestDocs(paths), options);
  for (const w of parsed.warnings) warn(w);
  if (parsed.errors.length > 0) throw new InputError(parsed.errors.join('\n'));
  return parsed;
}

/** `--namespace`, as `loadManifests` takes it. */
export function namespaceOption(namespace: string | undefined): ParseOptions {
  return namespace === undefined || namespace === '' ? {} : { namespace };
}

/** The `warn` of the commands: one `warning:` line on their `err`. */
export function warnTo(io: Io): (line: string) => void {
  return (line) => {
    io.err(`warning: ${line}\n`);
  };
}

/** The Vector to work on: the only one, or the one named by `--vector ns/name`. */
export function pickVector(vectors: readonly Vector[], wanted: string | undefined): Vector {
  const names = vectors.map((v) => `${v.metadata.namespace}/${v.metadata.name}`);
  if (wanted !== undefined) {
    const i = names.indexOf(wanted);
    if (i < 0) throw new InputError(`--vector ${wanted}: not in the inputs (found: ${names.join(', ') || 'none'})`);
    return vectors[i] as Vector;
  }
  if (vectors.length === 0) {
    throw new InputError('no Vector (observability.kaasops.io/v1alpha1) in the inputs: add one, its spec may be empty');
  }
  if (vectors.length > 1) {
    throw new InputError(
      `${vectors.length} Vectors in the inputs (${names.join(', ')}): choose one with --vector ns/name`,
    );
  }
  return vectors[0] as Vector;
}

/** `ns/name` of a VectorAggregator, `name` of a ClusterVectorAggregator: what `--aggregator` takes. */
function aggregatorKey(a: Aggregator): string {
  return a.kind === 'VectorAggregator' ? `${a.metadata.namespace ?? ''}/${a.metadata.name}` : a.metadata.name;
}

/**
 * The aggregator to work on, or undefined for the Vector: the one `--aggregator` names, else the only aggregator when
 * the inputs hold no Vector and `--vector` is not given. Several aggregators and no Vector need `--aggregator`.
 */
export function pickAggregator(
  parsed: { vectors: readonly Vector[]; aggregators: readonly Aggregator[] },
  wanted: string | undefined,
  vectorFlag: string | undefined,
): Aggregator | undefined {
  const names = parsed.aggregators.map(aggregatorKey);
  if (wanted !== undefined) {
    const i = names.indexOf(wanted);
    if (i < 0) throw new InputError(`--aggregator ${wanted}: not in the inputs (found: ${names.join(', ') || 'none'})`);
    return parsed.aggregators[i];
  }
  if (vectorFlag !== undefined || parsed.vectors.length > 0 || names.length === 0) return undefined;
  if (names.length > 1)
    throw new InputError(
      `${names.length} aggregators in the inputs (${names.join(', ')}): choose one with --aggregator ns/name ` +
        '(a ClusterVectorAggregator: --aggregator name)',
    );
  return parsed.aggregators[0];
}

const commonOptions = {
  filename: { type: 'string', short: 'f', multiple: true, default: [] },
  vector: { type: 'string' },
  aggregator: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsOptionsConfig;

type CommandConfig<O extends ParseArgsOptionsConfig> = {
  args: string[];
  options: typeof commonOptions & O;
  strict: true;
  allowPositionals: false;
};

/**
 * The flags every manifest-reading command shares (`-f PATH...`, `--vector`, `--help`) plus its own. Returns the
 * values, or the exit code when the command is already done: 0 after `--help`, 2 on a usage error (printed).
 */
export function parseCommandArgs<O extends ParseArgsOptionsConfig>(
  command: string,
  usage: string,
  args: string[],
  io: Io,
  own: O,
): ReturnType<typeof parseArgs<CommandConfig<O>>>['values'] | number {
  let values;
  try {
    ({ values } = parseArgs<CommandConfig<O>>({
      args,
      options: { ...commonOptions, ...own },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.err(`vector-operator ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  // TypeScript cannot resolve the generic result here; the common flags are always among the options.
  const common = values as { help?: boolean; filename: string[] };
  if (common.help === true) {
    io.out(usage);
    return 0;
  }
  if (common.filename.length === 0) {
    io.err(`vector-operator ${command}: no input: pass -f PATH (a file or a directory of manifests)\n\n${usage}`);
    return 2;
  }
  return values;
}
