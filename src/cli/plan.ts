/** `vector-operator plan`: not built yet (see the issue tracker). */
import { stderr } from 'node:process';

export function main(_args: string[]): Promise<number> {
  stderr.write('vector-operator plan: not implemented yet\n');
  return Promise.resolve(2);
}
