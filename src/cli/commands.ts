/**
 * The `vector-operator` commands and their dispatch. Each subcommand lives in its own module and is loaded lazily,
 * so `render` never pays for the Kubernetes client and the operator image never needs the stand (`lab/`).
 * `dispatch` returns the exit code; only the binary (vector-operator.ts) touches the process.
 */
import type { Io } from './io.ts';

type Command = (args: string[], io: Io) => Promise<number>;

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

const commands: Record<string, Entry> = {
  render: {
    summary: 'print the agent config (or every object, --objects) for the Vector in the given manifests',
    load: async () => (await import('./render.ts')).main,
  },
  plan: {
    summary: 'compare legacy and optimized configs: sources collapsed, watches, checkpoints to carry',
    load: async () => (await import('./plan.ts')).main,
  },
  run: {
    summary: 'run the operator (controllers for Vector, VectorPipeline, ClusterVectorPipeline)',
    load: async () => (await import('./run.ts')).main,
  },
  lab: {
    summary: 'the local stand (lab apiserver: the Kubernetes API stand-in)',
    load: async () => (await import('./lab.ts')).main,
  },
};

function usage(): string {
  const lines = ['usage: vector-operator <command> [flags]', '', 'commands:'];
  for (const [name, entry] of Object.entries(commands)) lines.push(`  ${name.padEnd(8)} ${entry.summary}`);
  lines.push('', "Run 'vector-operator <command> --help' for a command's flags.");
  return lines.join('\n') + '\n';
}

/** Runs `vector-operator args`: 0 on success, 1 on failure, 2 on a usage error. */
export async function dispatch(args: string[], io: Io): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    io.err(`vector-operator: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  return command(rest, io);
}
