/**
 * Part of `npm run lint`: two checks on the import graph of the repository's TypeScript, read with the TypeScript
 * compiler's parser (no type checking, so it takes a second).
 *
 * 1. The dependency arrows of DESIGN: `cli` → `lab` → `operator` → `pipelines` / `merger` → `kube` / `vector` / `fs`.
 *    A layer imports only the layers below it (`allowed`); nothing in `src/` imports `lab/` except the CLI's `lab`
 *    subcommand (`src/cli/lab.ts`), and that through a lazy `import()`.
 * 2. Unused exports: a value (function, class, constant, enum) exported from `src/` that no other file
 *    imports (tests, benchmarks and scripts count as importers). Drop the `export`, or the symbol when nothing uses
 *    it. A dynamic `import()`, an `import * as` and an `export *` use every export of their module. Types and
 *    interfaces are not checked: one named in an exported function's signature is part of that function's API even
 *    when no caller spells it.
 *
 * Exit 1 with one line per finding, 0 when clean.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { exit, stderr, stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../', import.meta.url));

/** What each layer may import, besides itself. `src/<dir>` by its dir name; `lab` is the whole of `lab/`. */
const allowed: Record<string, string[]> = {
  cli: ['lab', 'operator', 'pipelines', 'merger', 'kube', 'vector', 'fs'],
  lab: ['operator', 'pipelines', 'merger', 'kube', 'vector', 'fs'],
  operator: ['pipelines', 'merger', 'kube', 'vector', 'fs'],
  pipelines: ['kube', 'vector', 'fs'],
  merger: ['kube', 'vector', 'fs'],
  kube: [],
  vector: [],
  fs: [],
};
/** The one file of `src/` that may reach `lab/`, and only lazily. */
const labGate = 'src/cli/lab.ts';

interface Edge {
  from: string;
  to: string;
  /** Names imported; undefined for every export (namespace import, `export *`, dynamic import). */
  names: string[] | undefined;
  dynamic: boolean;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'target') out.push(...files(path));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function target(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(root, resolve(root, dirname(from), spec));
}

function importedNames(clause: ts.ImportClause | undefined): string[] | undefined {
  if (clause === undefined) return [];
  const names: string[] = [];
  if (clause.name !== undefined) names.push('default');
  const b = clause.namedBindings;
  if (b === undefined) return names;
  if (ts.isNamespaceImport(b)) return undefined;
  for (const el of b.elements) names.push((el.propertyName ?? el.name).text);
  return names;
}

function hasExport(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The values a statement declares; types and interfaces are left out (see the header). */
function declaredNames(node: ts.Statement): string[] {
  if (ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return [];
  if (ts.isVariableStatement(node))
    return node.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  const named = node as ts.Statement & { name?: ts.Node };
  if (named.name !== undefined && ts.isIdentifier(named.name)) return [named.name.text];
  return [];
}

/** One file: its outgoing edges and the names it exports. */
function scan(file: string): { edges: Edge[]; exports: string[] } {
  const sf = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const exports: string[] = [];
  const add = (spec: ts.Expression | undefined, names: string[] | undefined, dynamic = false): void => {
    if (spec === undefined || !ts.isStringLiteral(spec)) return;
    const to = target(file, spec.text);
    if (to !== undefined) edges.push({ from: file, to, names, dynamic });
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) add(st.moduleSpecifier, importedNames(st.importClause));
    else if (ts.isExportDeclaration(st)) {
      const clause = st.exportClause;
      const named = clause !== undefined && ts.isNamedExports(clause) ? clause.elements : undefined;
      if (st.moduleSpecifier !== undefined)
        add(
          st.moduleSpecifier,
          named?.map((el) => (el.propertyName ?? el.name).text),
        );
      if (named !== undefined && !st.isTypeOnly)
        exports.push(...named.filter((el) => !el.isTypeOnly).map((el) => el.name.text));
    } else if (ts.isExportAssignment(st)) exports.push('default');
    else if (hasExport(st)) exports.push(...declaredNames(st));
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
      add(node.arguments[0], undefined, true);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { edges, exports };
}

/** `src/<dir>` for files of src/, `lab` for lab/, undefined elsewhere (tests, benchmarks, scripts: unrestricted). */
function layer(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] === 'lab') return 'lab';
  if (parts[0] === 'src' && parts.length > 2) return parts[1];
  return undefined;
}

function arrowFindings(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = layer(e.from);
    const to = layer(e.to);
    if (from === undefined || to === undefined || from === to) continue;
    if (to === 'lab' && e.from.startsWith('src/') && !(e.from === labGate && e.dynamic))
      out.push(`${e.from}: imports ${e.to}; only ${labGate} may reach lab/, through import()`);
    else if (!(allowed[from] ?? []).includes(to))
      out.push(`${e.from}: imports ${e.to} (${from} → ${to} is against DESIGN's dependency arrows)`);
  }
  return out;
}

function unusedFindings(scanned: Map<string, { edges: Edge[]; exports: string[] }>): string[] {
  const used = new Map<string, Set<string> | 'all'>();
  for (const { edges } of scanned.values())
    for (const e of edges) {
      if (e.from === e.to) continue;
      const prev = used.get(e.to);
      if (e.names === undefined || prev === 'all') used.set(e.to, 'all');
      else used.set(e.to, new Set([...(prev ?? []), ...e.names]));
    }
  const out: string[] = [];
  for (const [file, { exports }] of scanned) {
    if (!file.startsWith('src/')) continue;
    const u = used.get(file);
    if (u === 'all') continue;
    for (const name of exports) if (u === undefined || !u.has(name)) out.push(`${file}: export '${name}' is unused`);
  }
  return out;
}

const all = ['src', 'lab', 'test', 'bench', 'scripts'].flatMap(files).sort();
const scanned = new Map(all.map((f) => [f, scan(f)]));
const findings = [...arrowFindings([...scanned.values()].flatMap((s) => s.edges)), ...unusedFindings(scanned)];
for (const f of findings) stderr.write(`${f}\n`);
if (findings.length > 0) exit(1);
stdout.write(`imports: ${all.length} files, dependency arrows hold, no unused export\n`);
