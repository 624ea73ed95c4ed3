// On a Node.js older than package.json's engines.node, every entry point says so in one line, at once,
// and exits 1: the built executables (run as `node out/X` and through their #!/usr/bin/env node line),
// the build (which npm start, npm run test:e2e and npm run bench run first), npm test's own check, and
// npm start itself.
// Needs such a Node.js: OLD_NODE, else the machine's /usr/bin/node when it is older (Debian's is 20).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { root } from './support/processes.js';

const required = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { engines: { node: string } }).engines
  .node;
const minimum = (/^>=\s*(\d+)\.(\d+)/.exec(required) ?? []).slice(1).map(Number);

function versionOf(node: string): string | undefined {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

const candidate = process.env.OLD_NODE ?? '/usr/bin/node';
const version = existsSync(candidate) ? versionOf(candidate) : undefined;
const [major = 0, minor = 0] = (version ?? '').replace(/^v/, '').split('.').map(Number);
const older =
  version !== undefined && (major < (minimum[0] ?? 0) || (major === minimum[0] && minor < (minimum[1] ?? 0)));
const skip = older
  ? false
  : `needs a Node.js older than ${required} (OLD_NODE, or /usr/bin/node; found ${version ?? 'none'})`;

/** A directory whose `node` is the old one, for PATH: what `#!/usr/bin/env node` and npm's scripts find. */
const bin = mkdtempSync(`${tmpdir()}/grpc-lb-old-node-`);
if (older) symlinkSync(candidate, `${bin}/node`);
const path = `${bin}:${process.env.PATH ?? ''}`;

function run(command: string, args: string[]): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, PATH: path } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: output.split('\n').filter((line) => line.trim() !== '') });
    });
  });
}

const line = (who: string) =>
  `${who}: ${['build', 'test'].includes(who) ? 'grpc-lb needs' : 'needs'} Node.js >= ${required.replace(/^>=\s*/, '')}, found ${version} (${candidate})`;

describe(`on Node.js ${version ?? '(none older found)'}`, { skip }, () => {
  after(() => rmSync(bin, { recursive: true, force: true }));

  for (const program of ['server', 'client-http', 'client-grpc', 'lab']) {
    it(`node out/${program} and out/${program}: one line, exit 1`, async () => {
      for (const [command, args] of [
        [candidate, [`out/${program}`, '--help']],
        [`out/${program}`, ['--help']],
      ] as const) {
        const { code, lines } = await run(command, [...args]);
        assert.equal(code, 1, lines.join('\n'));
        assert.deepEqual(lines, [line(program)]);
      }
    });
  }

  it('scripts/build.mjs: one line, exit 1, out/ left as it was', async () => {
    const before = statSync(`${root}out/client-grpc.mjs`).mtimeMs;
    const { code, lines } = await run(candidate, ['scripts/build.mjs']);
    assert.equal(code, 1, lines.join('\n'));
    assert.deepEqual(lines, [line('build')]);
    assert.equal(statSync(`${root}out/client-grpc.mjs`).mtimeMs, before, 'nothing was built');
  });

  for (const script of [['start'], ['run', 'build']]) {
    it(`npm ${script.join(' ')}: the line first, exit non-zero`, async () => {
      const { code, lines } = await run('npm', script);
      assert.notEqual(code, 0, lines.join('\n'));
      // npm's own "> grpc-lb@0.1.0 start" header, then ours, and nothing after it
      const ours = lines.filter((printed) => !printed.startsWith('>'));
      assert.deepEqual(ours, [line('build')], lines.join('\n'));
    });
  }

  it('scripts/node-version.mjs test, which npm test runs first: one line, exit 1', async () => {
    const { code, lines } = await run(candidate, ['scripts/node-version.mjs', 'test']);
    assert.equal(code, 1, lines.join('\n'));
    assert.deepEqual(lines, [line('test')]);
  });

  it('npm test checks first, and test:e2e, bench and soak build first, so they stop at the same lines', () => {
    // Not run here: were the check broken, npm test would go on to run the unit suite on this Node.js.
    const { scripts } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
    assert.match(scripts.test ?? '', /^node scripts\/node-version\.mjs test && /);
    for (const name of ['test:e2e', 'bench', 'soak']) assert.match(scripts[name] ?? '', /^npm run build && /, name);
    assert.match(scripts.start ?? '', /^node scripts\/build\.mjs && /);
    assert.equal(scripts.build, 'node scripts/build.mjs');
  });
});
