/**
 * `vector-operator lab apiserver --kubeconfig F [--port N]`: serve the API server stand-in until SIGINT/SIGTERM.
 *
 * Invariant: the kubeconfig is written (mode 0600) only once the server listens, so a caller that waits for the file
 * (or for the "serving" line on stdout) can connect at once.
 */
import { once } from 'node:events';
import process, { stderr, stdout } from 'node:process';
import { parseArgs } from 'node:util';

const USAGE = `usage: vector-operator lab apiserver --kubeconfig FILE [--port N] [--token T]

Serves the Kubernetes API stand-in on https://127.0.0.1 (self-signed certificate, bearer token) and writes a
kubeconfig that kubectl and @kubernetes/client-node use unchanged. Runs until SIGINT or SIGTERM.

  --kubeconfig FILE  where to write the kubeconfig (required)
  --port N           port to listen on (default: a free one)
  --token T          bearer token to require (default: random)
`;

export async function main(args: string[]): Promise<number> {
  let values: { kubeconfig?: string; port?: string; token?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    stderr.write(`vector-operator lab apiserver: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    stdout.write(USAGE);
    return 0;
  }
  if (values.kubeconfig === undefined) {
    stderr.write(`vector-operator lab apiserver: --kubeconfig is required\n\n${USAGE}`);
    return 2;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    stderr.write(`vector-operator lab apiserver: --port must be an integer 0-65535, got '${values.port ?? ''}'\n`);
    return 2;
  }
  // Loaded after the flags are checked, so that `--help` and usage errors load nothing heavy.
  const { startApiServer } = await import('./server.ts');
  const server = await startApiServer({ port, ...(values.token === undefined ? {} : { token: values.token }) });
  server.writeKubeconfig(values.kubeconfig);
  stdout.write(`lab apiserver: serving ${server.url}; kubeconfig written to ${values.kubeconfig}\n`);
  const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  stdout.write(`lab apiserver: ${String(signal[0])} received, stopping\n`);
  await server.close();
  return 0;
}
