// `out/lab compare`, short runs of a few strategies, checked where a user reads them — the table, the JSON
// and the page — on counts, never on timings: the default scenario (l4 stays on one pod, dns never reaches
// the added pods, l4+age reaches one once its connection ages out, k8s, xds, edge and mesh reach all 5 and
// lose no call while scaling down),
// the rollout scenario (its own table and JSON entry), and what a user gets wrong or interrupts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import type { compareJson } from '../../../src/lab/compare/report.js';
import type { RolloutResult } from '../../../src/lab/compare/rollout.js';
import { browse } from '../support/browser.js';
import { podNetwork } from '../support/pod-network.js';
import { interruptMidRun } from '../support/pods.js';
import { printed, root, run, start } from '../support/processes.js';

type Report = ReturnType<typeof compareJson>;

/** A compare run to its end, with its JSON and its page. */
async function compare(args: string[], timeoutMs: number) {
  const dir = mkdtempSync(`${tmpdir()}/grpc-lb-compare-`);
  const { code, output } = await run(
    'lab',
    ['compare', ...args, '--json', `${dir}/compare.json`, '--html', `${dir}/compare.html`],
    timeoutMs,
  );
  const report = JSON.parse(readFileSync(`${dir}/compare.json`, 'utf8')) as Report;
  return { code, output, report, page: `${dir}/compare.html` };
}

/** The table's row of `name`: its mark and its cells. */
function row(output: string, name: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `no row for ${name} in:\n${output}`);
  return line.trim().split(/\s{2,}/);
}

/** The page in Chromium: a chart per strategy, nothing loaded from anywhere. */
async function checkPage(page: string, strategies: string[]): Promise<void> {
  const url = pathToFileURL(page).href;
  const browser = await browse(url);
  try {
    assert.deepEqual(browser.requests, [url], 'the page loads nothing');
    assert.deepEqual(browser.problems, []);
    assert.equal(await browser.page.locator('svg').count(), strategies.length, 'a chart per strategy');
    for (const name of strategies) assert.ok(await browser.page.getByText(name, { exact: true }).first().isVisible());
  } finally {
    await browser.close();
  }
}

describe('lab compare', () => {
  it('the default scenario: each strategy shows what it is expected to, in the table, the JSON and the page', async () => {
    // Every strategy but those the fault scenarios run (k8s+outlier, mesh-p2c, mesh-accrual) and
    // dns+age, whose client asks DNS again at most every 30 s: it needs phases of 17 s to show anything.
    const strategies = ['l4', 'l4+age', 'dns', 'k8s', 'xds', 'edge', 'mesh'];
    const { code, output, report, page } = await compare(
      [
        '--strategies',
        strategies.join(','),
        '--phase-seconds',
        '8',
        // A new pick through the Service every second: with the default 5 s, an 8 s phase holds one or two
        // picks, and each lands on a pod it already had one time in five — l4+age's ✓ would be a draw.
        '--connection-age-ms',
        '1000',
        '--latency-seconds',
        '1',
        '--latency-rounds',
        '1',
        '--pod-cidr',
        podNetwork('compare', 0).cidr,
      ],
      150_000,
    );
    assert.equal(code, 0, output);
    assert.equal(report.scenario, 'compare');
    assert.deepEqual(
      report.phases.map((phase) => phase.name),
      ['before scaling', 'scaled up', 'pod killed', 'scaled down'],
    );
    assert.equal(report.rollout, undefined);
    assert.equal(report.faults, undefined);
    const by = (name: string) => {
      const found = report.strategies.find((s) => s.name === name);
      assert.ok(found, `no ${name} in the JSON`);
      return found;
    };
    assert.deepEqual(
      report.strategies.map((s) => [s.name, s.ok]),
      strategies.map((name) => [name, true]),
      output,
    );
    assert.equal(by('l4').podsReached, 1);
    assert.equal(by('dns').podsReached, 1);
    assert.ok((by('l4+age').podsReached ?? 0) >= 2);
    for (const name of ['k8s', 'xds', 'edge', 'mesh']) {
      assert.equal(by(name).podsReached, 5);
      assert.equal(Object.keys(by(name).share ?? {}).length, 5);
      assert.equal(by(name).failed?.scaleDown, 0);
    }
    for (const result of report.strategies) {
      assert.notEqual(result.cpuMs, null, result.name);
      assert.notEqual(result.addedMs, null, result.name);
    }

    // The table: a row per strategy with its mark and the pods it reached, then the conclusion.
    assert.deepEqual(row(output, 'l4').slice(0, 3), ['l4', '✓', '1/5']);
    assert.deepEqual(row(output, 'mesh').slice(0, 3), ['mesh', '✓', '5/5']);
    assert.match(output, /^Every strategy measured showed what it is expected to \(7 of 7\)\.$/m);
    await checkPage(page, strategies);
  });

  it('the rollout scenario: its own table, the JSON its rollout entry, the page its charts', async () => {
    // The built-in rollout scenario with its minute-long pause cut short: what is checked here is where
    // the figures go, not how even the spread is a minute later.
    const scenario = `${mkdtempSync(`${tmpdir()}/grpc-lb-rollout-`)}/rollout.yml`;
    writeFileSync(scenario, readFileSync(`${root}scenarios/rollout.yml`, 'utf8').replace(/pause: \d+s/, 'pause: 2s'));
    const strategies = ['l4', 'k8s', 'mesh'];
    const { code, output, report, page } = await compare(
      [
        '--scenario',
        scenario,
        '--strategies',
        strategies.join(','),
        '--phase-seconds',
        '6',
        '--latency-seconds',
        '0',
        '--pod-cidr',
        podNetwork('compare', 1).cidr,
      ],
      150_000,
    );
    assert.equal(report.scenario, 'rollout');
    assert.deepEqual(
      report.rollout?.map((r) => r.name),
      strategies,
    );
    for (const name of ['k8s', 'mesh']) {
      const result: RolloutResult | undefined = report.rollout?.find((r) => r.name === name);
      assert.equal(result?.failedDuring, 0, `${name} lost no call while the pods rolled`);
      assert.equal(result?.podsReached, 5, `${name} reached every new pod right after`);
    }
    assert.equal(report.rollout?.find((r) => r.name === 'l4')?.podsReached, 1, 'l4 ends on one new pod');
    assert.deepEqual(row(output, 'l4').slice(0, 2), ['l4', report.rollout?.[0]?.ok ? '✓' : '✗']);
    assert.match(output, /^strategy\s+failed during\s+pods after\s+Jain after\s+even after s\s+Jain later$/m);
    assert.equal(code, report.rollout?.every((r) => r.ok !== false) ? 0 : 1, output);
    await checkPage(page, strategies);
  });

  it('an unknown strategy is a usage error: one line, exit 2', async () => {
    const { code, lines } = await run('lab', ['compare', '--strategies', 'l4,grpclb']);
    assert.equal(code, 2);
    const said = printed(lines);
    assert.equal(said.length, 1, said.join('\n'));
    assert.match(said[0] ?? '', /^lab: --strategies: unknown grpclb; choose from l4, .*\(see lab --help\)$/);
  });

  it('Ctrl-C stops it with exit 130 and leaves no client or pod behind', async () => {
    const net = podNetwork('compare', 2);
    const lab = start('lab', ['compare', '--strategies', 'l4,mesh', '--pod-cidr', net.cidr]);
    try {
      await interruptMidRun(lab, net);
    } finally {
      await lab.stop('SIGKILL');
    }
  });
});
