// Raising a process's soft limit on open files to its hard limit, with util-linux's prlimit, for real: a
// child Node process whose soft limit the test lowers after it started (Node raises it as it starts).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { raiseOpenFileLimit, readOpenFileLimit } from '../../src/common/open-files.js';
import { root } from '../support/root.js';

describe('the open-files limit, with prlimit', () => {
  it('raises a lowered soft limit to the hard limit with prlimit', async () => {
    const { hard } = readOpenFileLimit() ?? { hard: 0 };
    const low = Math.min(256, hard);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { raiseOpenFileLimit } from ${JSON.stringify(`${root}src/common/open-files.ts`)};
         process.stdin.once('data', () => { console.log(JSON.stringify(raiseOpenFileLimit())); process.exit(0); });
         console.log('ready');`,
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      child.stdout.setEncoding('utf8');
      const lines: string[] = [];
      child.stdout.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
      for (let i = 0; i < 100 && !lines.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(lines.includes('ready'), 'the child started');
      execFileSync('prlimit', ['--pid', String(child.pid), `--nofile=${low}:${hard}`]);
      assert.deepEqual(readOpenFileLimit(child.pid), { soft: low, hard });
      child.stdin.write('raise\n');
      await once(child, 'exit');
      const result = JSON.parse(lines.at(-1) ?? '{}') as { raised: boolean; line: string };
      assert.equal(result.raised, true, JSON.stringify(result));
      assert.equal(result.line, `open files: at most ${hard} (raised from ${low} to the hard limit)`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('says in one line why not when prlimit is missing', () => {
    const pidLimit = readOpenFileLimit();
    assert.ok(pidLimit);
    // A lowered limit needs prlimit; point it at a program that is not there.
    const child = spawn('sleep', ['5']);
    try {
      execFileSync('prlimit', ['--pid', String(child.pid), `--nofile=100:${pidLimit.hard}`]);
      const result = raiseOpenFileLimit('no-such-prlimit', child.pid);
      assert.equal(result.raised, false);
      assert.equal(
        result.line,
        `open files: at most 100 of a hard limit of ${pidLimit.hard}; could not raise it: no-such-prlimit not found (util-linux)`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
