// `out/lab compare` runs the strategies' own manifests (k8s/strategies, or a copy given with
// --strategies-dir): a change to a manifest changes what the lab measures. Here the +age servers' max
// connection age, raised in a copy to an hour, leaves l4+age on its one pod as l4 is (its ✗); the same copy
// with --connection-age-ms 300 reaches the added pods again, and the run says it changed the manifest's value.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { podNetwork } from './support/pod-network.js';
import { root, run } from './support/processes.js';

interface Result {
  name: string;
  ok: boolean | null;
  podsReached: number | null;
}

interface Report {
  settings: { connectionAgeMs: number | null };
  strategies: Result[];
}

const AN_HOUR = '3600000';

function strategiesWithAge(age: string): string {
  const dir = mkdtempSync(`${tmpdir()}/grpc-lb-strategies-`);
  cpSync(`${root}out/k8s/strategies`, dir, { recursive: true });
  const file = `${dir}/aged/server-aged.yml`;
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(
    /(- name: ADDR_SERVER_MAX_CONNECTION_AGE_MS\n\s+value: )"\d+"/,
    (_, head: string) => `${head}"${age}"`,
  );
  assert.notEqual(changed, text, 'the aged manifest sets ADDR_SERVER_MAX_CONNECTION_AGE_MS');
  writeFileSync(file, changed);
  return dir;
}

async function compare(dir: string, network: number, extra: string[] = []) {
  const json = `${dir}/compare.json`;
  const { code, output } = await run(
    'lab',
    [
      'compare',
      '--strategies',
      'l4+age',
      '--strategies-dir',
      dir,
      '--phase-seconds',
      '3',
      '--latency-seconds',
      '0',
      '--pod-cidr',
      podNetwork('compare-manifests', network).cidr,
      '--json',
      json,
      ...extra,
    ],
    120_000,
  );
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const result = report.strategies.find((s) => s.name === 'l4+age');
  assert.ok(result, output);
  return { code, output, report, result };
}

describe('lab compare runs the manifests it is given', () => {
  it(
    "a manifest's max connection age changes what l4+age sees; --connection-age-ms overrides it",
    { timeout: 300_000 },
    async () => {
      const dir = strategiesWithAge(AN_HOUR);

      const hour = await compare(dir, 1);
      assert.equal(hour.report.settings.connectionAgeMs, Number(AN_HOUR), hour.output);
      assert.equal(hour.result.podsReached, 1, hour.output);
      assert.equal(hour.result.ok, false, hour.output);
      assert.equal(hour.code, 1, hour.output);

      const fast = await compare(dir, 2, ['--connection-age-ms', '300']);
      assert.match(
        fast.output,
        /Deployment addr-server-aged: env ADDR_SERVER_MAX_CONNECTION_AGE_MS 3600000 → 300 \(--connection-age-ms\)/,
      );
      assert.equal(fast.report.settings.connectionAgeMs, 300, fast.output);
      assert.ok((fast.result.podsReached ?? 0) >= 2, fast.output);
      assert.equal(fast.result.ok, true, fast.output);
      assert.equal(fast.code, 0, fast.output);
    },
  );

  it('refuses a --strategies-dir that is not there', async () => {
    const missing = await run('lab', [
      'compare',
      '--strategies',
      'dns',
      '--strategies-dir',
      `${tmpdir()}/no-such-folder`,
    ]);
    assert.equal(missing.code, 2, missing.output);
    assert.match(missing.output, /--strategies-dir: no such folder/);
  });
});
