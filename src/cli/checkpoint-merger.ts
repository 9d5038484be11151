#!/usr/bin/env node
/**
 * `checkpoint-merger`: the init container that carries Vector's file read positions across source renames.
 *
 *   checkpoint-merger [--config F] [--standby-config F] [--data-dir D] [--log-dir L]
 *                     [--position-policy min|max] [--summary-file F]      the merge; always exits 0
 *   checkpoint-merger fingerprint FILE...                                 <decimal u64>\t<path> | not-ready\t<path>
 *   checkpoint-merger inspect --data-dir D [--json]                       what each source dir holds
 *
 * Flags are also accepted Go-style (`-config=F`), as the kaasops operator passes them, so its manifests can run
 * this image unchanged. The import graph is Node built-ins only: this runs before every agent start.
 */
// Durable writes are fsync-bound; more libuv threads let a rollback into many dirs sync them in parallel.
// Set before any asynchronous fs call, which is when libuv reads it.
process.env.UV_THREADPOOL_SIZE ??= '16';

// process.stdout/stderr are used lazily, never imported by name: binding them at import builds both streams,
// a few milliseconds the merge (which logs with writeSync) never needs.
import { argv, exit } from 'node:process';
import { parseFlags } from '../merger/args.ts';
import { runMerge } from '../merger/run.ts';
import { jsonLogger } from '../merger/log.ts';
import { MERGER_VERSION } from '../merger/version.ts';
import { exitQuietlyOnClosedStdout, flushAndExit } from './exit.ts';

const USAGE = `usage:
  checkpoint-merger [--config F] [--standby-config F] [--data-dir D] [--log-dir L]
                    [--position-policy min|max] [--summary-file F]
  checkpoint-merger fingerprint FILE...
  checkpoint-merger inspect --data-dir D [--json]
  checkpoint-merger --version
`;

function fail(message: string): number {
  process.stderr.write(`checkpoint-merger: ${message}\n\n${USAGE}`);
  return 2;
}

async function fingerprintCommand(files: string[]): Promise<number> {
  if (files.length === 0) return fail('fingerprint needs at least one FILE');
  const { fingerprintFile } = await import('../vector/fingerprint.ts');
  let status = 0;
  for (const file of files) {
    try {
      const fp = await fingerprintFile(file);
      process.stdout.write(fp.status === 'ready' ? `${fp.checksum}\t${file}\n` : `not-ready\t${file}\n`);
    } catch (err) {
      process.stderr.write(`checkpoint-merger: ${file}: ${(err as Error).message}\n`);
      status = 1;
    }
  }
  return status;
}

async function inspectCommand(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(args, { 'data-dir': 'string', json: 'boolean' });
  } catch (err) {
    return fail((err as Error).message);
  }
  const dataDir = flags.get('data-dir');
  if (typeof dataDir !== 'string') return fail('inspect needs --data-dir');
  const { formatInspect, inspectDataDir } = await import('../merger/inspect.ts');
  try {
    const report = inspectDataDir(dataDir);
    process.stdout.write(flags.has('json') ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report));
    return 0;
  } catch (err) {
    process.stderr.write(`checkpoint-merger: cannot inspect ${dataDir}: ${(err as Error).message}\n`);
    return 1;
  }
}

const MERGE_FLAGS = {
  config: 'string',
  'standby-config': 'string',
  'data-dir': 'string',
  'log-dir': 'string',
  'position-policy': 'string',
  'summary-file': 'string',
} as const;

/** The merge itself: whatever happens, exit 0, so the agent always starts (fail open). */
async function mergeCommand(args: string[]): Promise<number> {
  const log = jsonLogger();
  let flags;
  try {
    flags = parseFlags(args, MERGE_FLAGS);
  } catch (err) {
    log.log('error', 'bad arguments, skipping consolidation', { reason: (err as Error).message });
    return 0;
  }
  const str = (name: keyof typeof MERGE_FLAGS): string | null => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : null;
  };
  const policy = str('position-policy') ?? 'min';
  if (policy !== 'min' && policy !== 'max') {
    log.log('error', 'bad --position-policy, skipping consolidation', { value: policy, allowed: ['min', 'max'] });
    return 0;
  }
  const summaryFile = str('summary-file') ?? '/dev/termination-log';
  await runMerge(
    {
      config: str('config') ?? '/etc/vector/agent.json',
      standbyConfig: str('standby-config'),
      dataDir: str('data-dir') ?? '/vector-data-dir',
      logDir: str('log-dir'),
      policy,
      summaryFile: summaryFile === '' ? null : summaryFile,
    },
    log,
  );
  return 0;
}

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === '--help' || first === '-help' || first === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (first === '--version' || first === '-version') {
    process.stdout.write(`${MERGER_VERSION}\n`);
    return 0;
  }
  if (first === 'fingerprint') return fingerprintCommand(rest);
  if (first === 'inspect') return inspectCommand(rest);
  return mergeCommand(args);
}

// Fail open even on a bug: an uncaught error in the merge must not keep the agent from starting.
const merging = !['fingerprint', 'inspect', '--help', '-help', '-h', '--version', '-version'].includes(argv[2] ?? '');
process.on('uncaughtException', (err) => {
  process.stderr.write(`checkpoint-merger: ${err.stack ?? err.message}\n`);
  exit(merging ? 0 : 1);
});
exitQuietlyOnClosedStdout();
main(argv.slice(2)).then(
  (code) => flushAndExit(code),
  (err: unknown) => {
    process.stderr.write(`checkpoint-merger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return flushAndExit(merging ? 0 : 1);
  },
);
