/**
 * kaasops' kebab-casing of Service and port names (stoewer/go-strcase v1.3.1 `KebabCase`), rule for rule, because the
 * names it gives are the names of Services that exist at cutover.
 *
 * Invariants (reference: kaasops-aggregators-and-more.md §1.7):
 * - surrounding white space is trimmed (Go's `unicode.IsSpace`);
 * - `-`, `_` and white space are delimiters, and a run of them becomes one `-`;
 * - an ASCII upper-case letter is lowered, with a `-` before it when the previous character is lower case, or when the
 *   previous is upper case and the next is lower case (`HTTPServer` → `http-server`);
 * - everything else passes through, dots included;
 * - the quirk is kept: the last character is emitted as it is, so a trailing delimiter stays (`foo_` → `foo_`).
 */

// Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property.
const goSpace = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;
const isSpace = (c: string): boolean => goSpace.test(c);
const isDelimiter = (c: string): boolean => c === '-' || c === '_' || isSpace(c);
const isUpper = (c: string): boolean => c >= 'A' && c <= 'Z';
const isLower = (c: string): boolean => c >= 'a' && c <= 'z';
const lower = (c: string): string => (isUpper(c) ? c.toLowerCase() : c);

function trimGoSpace(s: string): string {
  const chars = Array.from(s);
  let a = 0;
  let b = chars.length;
  while (a < b && isSpace(chars[a] as string)) a++;
  while (b > a && isSpace(chars[b - 1] as string)) b--;
  return chars.slice(a, b).join('');
}

export function kebabCase(input: string): string {
  const chars = Array.from(trimGoSpace(input));
  let out = '';
  // `prev` and `curr` trail the loop by one character, as in Go: '' stands for Go's zero rune.
  let prev = '';
  let curr = '';
  for (const next of chars) {
    if (curr !== '' && isDelimiter(curr)) {
      if (prev === '' || !isDelimiter(prev)) out += '-';
    } else if (isUpper(curr)) {
      if (isLower(prev) || (isUpper(prev) && isLower(next))) out += '-';
      out += lower(curr);
    } else if (curr !== '') out += curr;
    prev = curr;
    curr = next;
  }
  if (chars.length > 0) {
    if (isUpper(curr) && isLower(prev)) out += '-';
    out += lower(curr);
  }
  return out;
}
