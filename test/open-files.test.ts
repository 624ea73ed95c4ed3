// The open-files limit, in-process: read from /proc/PID/limits, and nothing to raise when the soft limit is
// the hard one. (Raising it with util-linux's prlimit, for real: test/e2e/open-files.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOpenFileLimit, raiseOpenFileLimit, readOpenFileLimit } from '../src/common/open-files.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

describe('the open-files limit', () => {
  it('reads the soft and hard limits from /proc/PID/limits', () => {
    assert.deepEqual(parseOpenFileLimit(LIMITS), { soft: 1024, hard: 524288 });
    assert.deepEqual(parseOpenFileLimit(LIMITS.replace('1024  ', 'unlimited').replace('524288', 'unlimited')), {
      soft: Infinity,
      hard: Infinity,
    });
    assert.equal(parseOpenFileLimit('nothing here'), undefined);
  });

  it('says there is nothing to raise when the soft limit is the hard one (Node raised it as it started)', () => {
    const limit = readOpenFileLimit();
    assert.ok(limit, 'this test runs where /proc is');
    assert.equal(limit.soft, limit.hard);
    const result = raiseOpenFileLimit();
    assert.equal(result.raised, false);
    assert.equal(result.line, `open files: at most ${limit.hard} (the hard limit)`);
  });
});
