/**
 * `vector-operator args` run in this process: the commands' own dispatch (src/cli/commands.ts), as the binary runs
 * it, with what it wrote to stdout and stderr. For the commands' behaviour; what only the process can show (pipes,
 * exit on a flushed stdout, which modules load) is tested on the binary (helpers/bin.ts).
 */
import { dispatch } from '../../src/cli/commands.ts';
import type { BinResult } from './bin.ts';

export async function cli(args: string[]): Promise<Omit<BinResult, 'signal'>> {
  let stdout = '';
  let stderr = '';
  const status = await dispatch(args, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
  });
  return { status, stdout, stderr };
}
