/**
 * The functions a VRL program calls, found by lexing the program the way VRL's lexer splits it, not by substring
 * search: `get_env_var` inside a string, a comment, a raw string `s'…'`, a regex `r'…'`, a timestamp `t'…'` or a
 * path segment (`.get_env_var`, `%get_env_var`) is not a call; `get_env_var!(…)` and `get_env_var (…)` are.
 *
 * Invariants:
 * - Over-reports rather than under-reports: an identifier followed (after blanks) by `(` or `!(` counts as a call even
 *   where VRL's parser would refuse the program, and `{{ … }}` template segments inside strings are lexed as code.
 *   The policy uses this list to refuse, so a false call only refuses a program VRL would not run anyway.
 * - Never throws: an unterminated string or comment ends the scan (VRL refuses such a program, so nothing in it runs).
 * - Linear in the program's length, no regular expressions and no allocation per character: it runs on every
 *   pipeline of every build.
 */

const HASH = 0x23; // #
const QUOTE = 0x22; // "
const APOS = 0x27; // '
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const PERCENT = 0x25;
const BANG = 0x21;
const LPAREN = 0x28;
const LBRACE = 0x7b;

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

/** Index just past a quoted literal that starts at `open` (the quote); `src.length` when it never closes. */
function skipQuoted(src: string, open: number, quote: number): number {
  for (let i = open + 1; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === quote) return i + 1;
  }
  return src.length;
}

/**
 * A `"…"` string: its `{{ … }}` template segments are scanned as code (into `calls`); returns the index past it.
 */
function skipString(src: string, open: number, calls: Set<string>): number {
  for (let i = open + 1; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
    else if (c === LBRACE && src.charCodeAt(i + 1) === LBRACE) {
      const close = src.indexOf('}}', i + 2);
      const end = close < 0 ? src.length : close;
      scan(src.slice(i + 2, end), calls);
      i = end + 1;
    }
  }
  return src.length;
}

function scan(src: string, calls: Set<string>): void {
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === HASH) {
      const eol = src.indexOf('\n', i);
      i = eol < 0 ? n : eol + 1;
    } else if (c === QUOTE) {
      i = skipString(src, i, calls);
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      // s'…' raw string, r'…' regex, t'…' timestamp: one-letter prefixes glued to a single quote.
      if (i - start === 1 && src.charCodeAt(i) === APOS && (c === 0x73 || c === 0x72 || c === 0x74)) {
        i = skipQuoted(src, i, APOS);
        continue;
      }
      // Glued to `.` or `%` it is a path segment (`.get_env_var`, `%meta`); after a blank it starts a new expression.
      const before = start === 0 ? 0 : src.charCodeAt(start - 1);
      if (before === DOT || before === PERCENT) continue;
      let j = i;
      while (j < n && isBlank(src.charCodeAt(j))) j++;
      if (src.charCodeAt(j) === BANG) {
        j++;
        while (j < n && isBlank(src.charCodeAt(j))) j++;
      }
      if (src.charCodeAt(j) === LPAREN) calls.add(src.slice(start, i));
    } else if (c >= 0x30 && c <= 0x39) {
      // A number, with any suffix glued to it (`1e3`, `1_000`, `1.5`): never a name.
      while (i < n && (isIdentPart(src.charCodeAt(i)) || src.charCodeAt(i) === DOT)) i++;
    } else i++;
  }
}

/** The distinct names of the functions `program` calls, in order of first call. */
export function vrlFunctionCalls(program: string): string[] {
  const calls = new Set<string>();
  scan(program, calls);
  return [...calls];
}
