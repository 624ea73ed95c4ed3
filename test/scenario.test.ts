// Scenario files: the built-in ones parse, every step a user may write reads as documented, and a bad
// step is one line naming the file, the line and the step — never a stack trace.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadScenario, parseDuration, parseScenario, ScenarioError } from '../src/lab/experiment/scenario.js';

const ROOT = new URL('../scenarios/', import.meta.url);

describe('the built-in scenarios', () => {
  for (const file of readdirSync(ROOT).filter((name) => name.endsWith('.yml'))) {
    it(`${file} parses, with at least one phase`, () => {
      const scenario = loadScenario(new URL(file, ROOT).pathname);
      assert.equal(`${scenario.name}.yml`, file);
      assert.ok(scenario.steps.some((step) => step.action === 'count'));
    });
  }
});

describe('steps', () => {
  it('reads every action with its options and the line it is on', () => {
    const scenario = parseScenario(
      [
        'name: all',
        'description: every step',
        'clients:',
        '  rate: 50',
        '  deadline-ms: 250',
        'steps:',
        '  - scale: 5',
        '  - wait: rollout',
        '    timeout: 30s',
        '  - count: 1.5s',
        '    as: warm',
        '  - pause: 500ms',
        '  - kill: oldest',
        '  - delete: random',
        '    deployment: addr-server-aged',
        '  - rollout: restart',
        '  - set-env: {ADDR_SERVER_DELAY_MS: 5}',
        '  - stop: newest',
        '  - continue: stopped',
        '  - fault: {delay-ms: 200, fail-code: UNAVAILABLE}',
        '    replicas: 2',
        '  - fault: off',
        '  - count: 1m',
      ].join('\n'),
      'all.yml',
    );
    assert.deepEqual(scenario.clients, { rate: 50, deadlineMs: 250 });
    const steps = scenario.steps.map(({ line, index, ...rest }) => ({ line, index, ...rest }));
    assert.deepEqual(steps[0], { line: 7, index: 1, action: 'scale', replicas: 5 });
    assert.deepEqual(steps[1], { line: 8, index: 2, action: 'wait', until: 'rollout', timeoutMs: 30_000 });
    assert.deepEqual(steps[2], { line: 10, index: 3, action: 'count', ms: 1500, phase: 'warm' });
    assert.deepEqual(steps[3], { line: 12, index: 4, action: 'pause', ms: 500 });
    assert.deepEqual(steps[4], { line: 13, index: 5, action: 'kill', which: 'oldest' });
    assert.deepEqual(steps[5], {
      line: 14,
      index: 6,
      deployment: 'addr-server-aged',
      action: 'delete',
      which: 'random',
    });
    assert.deepEqual(steps[6], { line: 16, index: 7, action: 'rollout', how: 'restart' });
    assert.deepEqual(steps[7], { line: 17, index: 8, action: 'set-env', env: { ADDR_SERVER_DELAY_MS: '5' } });
    assert.deepEqual(steps[8], { line: 18, index: 9, action: 'stop', which: 'newest' });
    assert.deepEqual(steps[9], { line: 19, index: 10, action: 'continue' });
    assert.deepEqual(steps[10], {
      line: 20,
      index: 11,
      action: 'fault',
      options: { 'delay-ms': '200', 'fail-code': 'UNAVAILABLE' },
      replicas: 2,
    });
    assert.deepEqual(steps[11], { line: 22, index: 12, action: 'fault', options: 'off', replicas: 1 });
    assert.deepEqual(steps[12], { line: 23, index: 13, action: 'count', ms: 60_000, phase: 'phase 13' });
  });

  it('reads durations in ms, s and m, and nothing else', () => {
    assert.equal(parseDuration('20s'), 20_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2m'), 120_000);
    for (const bad of ['20', '-1s', '0s', 's', '1h', '1e3ms', 20, '99m'])
      assert.equal(parseDuration(bad), undefined, String(bad));
  });
});

describe('bad scenarios', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'a step with a typo',
      'name: x\nsteps:\n  - scael: 5\n  - count: 1s\n',
      /^x\.yml:3: step 1: unknown action "scael"/,
    ],
    [
      'a bad value',
      'name: x\nsteps:\n  - count: 1s\n  - kill: oldst\n',
      /^x\.yml:4: step 2 \(kill\): expected oldest, newest, random, got "oldst"$/,
    ],
    [
      'two actions in one step',
      'name: x\nsteps:\n  - scale: 5\n    count: 1s\n',
      /^x\.yml:3: step 1 must have exactly one action .* it has scale and count$/,
    ],
    [
      'a modifier that does not go with the action',
      'name: x\nsteps:\n  - scale: 5\n    as: up\n  - count: 1s\n',
      /^x\.yml:3: step 1 \(scale\): "as" does not go with scale$/,
    ],
    [
      'too many replicas',
      'name: x\nsteps:\n  - scale: 500\n  - count: 1s\n',
      /^x\.yml:3: step 1 \(scale\): expected a replica count from 0 to 20, got 500$/,
    ],
    ['no phase to count', 'name: x\nsteps:\n  - scale: 5\n', /^x\.yml: no count step/],
    [
      'two phases of one name',
      'name: x\nsteps:\n  - count: 1s\n    as: a\n  - count: 1s\n    as: a\n',
      /two count steps are both named "a"/,
    ],
    [
      'an unknown fault option',
      'name: x\nsteps:\n  - fault: {slow: 1}\n  - count: 1s\n',
      /^x\.yml:3: step 1 \(fault\): "slow" is not a fault option/,
    ],
    [
      'a fault value the server would refuse',
      'name: x\nsteps:\n  - fault: {delay-ms: abc}\n  - count: 1s\n',
      /^x\.yml:3: step 1 \(fault\): ADDR_SERVER_DELAY_MS must be .*got "abc"/,
    ],
    [
      'a fault status that is no gRPC status',
      'name: x\nsteps:\n  - fault: {fail-percent: 100, fail-code: FOO}\n  - count: 1s\n',
      /^x\.yml:3: step 1 \(fault\): ADDR_SERVER_FAIL_CODE must be a gRPC status/,
    ],
    ['not YAML', 'name: x\nsteps: [\n', /^x\.yml:\d+: not valid YAML/],
    ['no steps', 'name: x\n', /^x\.yml:1: steps must be a list/],
    ['an unknown top-level key', 'name: x\nstep:\n  - count: 1s\n', /^x\.yml:2: unknown key "step"/],
    [
      'both rate and interval',
      'name: x\nclients: {rate: 5, interval-ms: 100}\nsteps:\n  - count: 1s\n',
      /clients sets both rate and interval-ms/,
    ],
    ['no name', 'steps:\n  - count: 1s\n', /^x\.yml:1: name is missing/],
  ];
  for (const [what, text, message] of cases) {
    it(`${what}: one line naming the file, the line and the step`, () => {
      assert.throws(
        () => parseScenario(text, 'x.yml'),
        (error: unknown) =>
          error instanceof ScenarioError && message.test(error.message) && !error.message.includes('\n'),
      );
    });
  }
});
