/**
 * `vector-operator lab`: the local stand. `lab apiserver` serves the API server stand-in; `lab [flags]` runs the
 * scenarios and prints the report. The stand lives in `lab/`, loaded here through a lazy import() so that nothing
 * else in src/ depends on it.
 */
export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'apiserver') return (await import('../../lab/apiserver/cli.ts')).main(rest);
  if (sub === 'help') return (await import('../../lab/report/cli.ts')).main(['--help']);
  return (await import('../../lab/report/cli.ts')).main(args);
}
