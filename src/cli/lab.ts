/**
 * `vector-operator lab`: the local stand. Only `lab apiserver` exists so far; the scenarios come with a later issue.
 * The stand lives in `lab/`, loaded here through a lazy import() so that nothing else in src/ depends on it.
 */
import { stderr, stdout } from 'node:process';

const USAGE = `usage: vector-operator lab <subcommand> [flags]

subcommands:
  apiserver  serve the Kubernetes API stand-in (--kubeconfig F [--port N])
`;

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'apiserver') return (await import('../../lab/apiserver/cli.ts')).main(rest);
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  stderr.write(
    `vector-operator lab: the scenarios${sub === undefined ? '' : ` ('${sub}')`} are not built yet; only 'lab apiserver' is\n\n${USAGE}`,
  );
  return 2;
}
