/**
 * What Vector accepts as a component id, and what is safe as a directory name.
 *
 * Vector keeps each source's checkpoints in `<data_dir>/<component id>/`, and uses `.` to address a component's
 * named outputs (`route.ns`), so an id must be a single, harmless path segment without a period. We also refuse
 * whitespace and control characters: they survive neither Vector's CLI tooling nor a careful operator's eyes.
 */

/** Linux NAME_MAX: a longer id cannot become its checkpoint directory. */
const maxComponentIdBytes = 255;

// eslint-disable-next-line no-control-regex
const forbidden = /[./\\\u0000-\u0020\u007f]/;

/** Returns why `id` is not a usable component id, or undefined when it is fine. */
export function componentIdProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (id === '.' || id === '..') return `'${id}' would name a directory outside the source's own`;
  const bad = forbidden.exec(id);
  if (bad !== null) {
    const c = bad[0];
    const shown =
      c === '.' || c === '/' || c === '\\' ? `'${c}'` : `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    const why =
      c === '.'
        ? 'Vector reads a period as an output reference (<component>.<output>)'
        : 'it is not a safe path segment';
    return `contains ${shown}: ${why}`;
  }
  if (Buffer.byteLength(id, 'utf8') > maxComponentIdBytes) {
    return `is longer than ${maxComponentIdBytes} bytes, the limit for its checkpoint directory name`;
  }
  return undefined;
}
