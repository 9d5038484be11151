/** `vector-operator render`: not built yet (see the issue tracker). */
import { stderr } from 'node:process';

export function main(_args: string[]): Promise<number> {
  stderr.write('vector-operator render: not implemented yet\n');
  return Promise.resolve(2);
}
