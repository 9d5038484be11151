/** `vector-operator lab`: not built yet (see the issue tracker). */
import { stderr } from 'node:process';

export function main(_args: string[]): Promise<number> {
  stderr.write('vector-operator lab: not implemented yet\n');
  return Promise.resolve(2);
}
