// The run's self-check, in-process: made-up tallies in, verdicts out. Each client is judged by the
// expectation it carries, whatever its protocol or path, and each way of missing it gives a ✗.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstCallFigures } from '../src/lab/experiment/analysis.js';
import type { Expectation } from '../src/lab/experiment/clients.js';
import { reportJson, reportText } from '../src/lab/run/report.js';
import { judgeable, verdicts } from '../src/lab/run/verdicts.js';
import type { ClientTally, PhaseTally } from '../src/lab/run/view.js';

type PhaseName = 'before scaling' | 'scaled up' | 'scaled down';

const pods = (...hosts: number[]) => hosts.map((host) => `10.1.0.${host}`);
const FIVE = pods(8, 9, 10, 11, 12);

function client(
  tag: string,
  sees: Expectation,
  counts: Record<string, number>,
  more: Partial<ClientTally> = {},
): ClientTally {
  const path = tag === 'L4' ? 'l4' : 'l7';
  return {
    name: 'client-grpc',
    tag,
    protocol: 'grpc',
    path,
    expect: { sees, as: 'in the post' },
    counts,
    errors: 0,
    ...more,
  };
}

const phase = (
  name: PhaseName,
  replicas: number,
  clients: ClientTally[],
  more: Partial<PhaseTally> = {},
): PhaseTally => ({
  name,
  replicas,
  seconds: 15,
  pods: name === 'before scaling' ? pods(8) : name === 'scaled up' ? FIVE : pods(8, 9),
  clients,
  ...more,
});

/** What the post saw: HTTP spreads, gRPC through the Service sticks, gRPC in the mesh reaches every pod. */
const asInThePost = (): Record<'http' | 'grpc' | 'mesh', ClientTally> => ({
  http: {
    ...client('L4', 'spread', { '10.1.0.8': 4, '10.1.0.9': 5, '10.1.0.10': 6 }),
    name: 'client-http',
    protocol: 'http',
  },
  grpc: client('L4', 'stuck', { '10.1.0.8': 15 }),
  mesh: client(
    'mesh',
    'every-pod',
    { '10.1.0.8': 3, '10.1.0.9': 3, '10.1.0.10': 3, '10.1.0.11': 3, '10.1.0.12': 3 },
    { firstCallMs: { '10.1.0.9': 120, '10.1.0.10': 480, '10.1.0.11': 300, '10.1.0.12': 900 } },
  ),
});

function run(
  up: Partial<ReturnType<typeof asInThePost>>,
  downErrors: Partial<Record<'http' | 'grpc' | 'mesh', number>> = {},
): PhaseTally[] {
  const clients = { ...asInThePost(), ...up };
  const down = Object.entries(asInThePost()).map(([key, c]) => ({
    ...c,
    counts: { '10.1.0.8': 8, '10.1.0.9': 7 },
    errors: downErrors[key as 'http'] ?? 0,
    firstCallMs: undefined,
  }));
  return [
    phase(
      'before scaling',
      1,
      Object.values(asInThePost()).map((c) => ({ ...c, counts: { '10.1.0.8': 15 }, firstCallMs: undefined })),
    ),
    phase('scaled up', 5, Object.values(clients), { rolloutMs: 1130 }),
    phase('scaled down', 2, down),
  ];
}

const lines = (result: ReturnType<typeof verdicts>) => result.scaledUp.verdicts.map((v) => v.line);

describe('verdicts', () => {
  it('what the post saw: a ✓ per client, no call lost while scaling down, ok', () => {
    const result = verdicts(run({}));
    assert.deepEqual(lines(result), [
      '✓ client-http (L4): spread over 3 of 5 pods, as in the post',
      '✓ client-grpc (L4): stuck on 10.1.0.8 (100 %), as in the post',
      '✓ client-grpc (mesh): spread over 5 of 5 pods, as in the post',
    ]);
    assert.equal(result.scaledUp.replicas, 5);
    assert.deepEqual(result.scaledDown, {
      replicas: 2,
      verdict: { ok: true, line: '✓ no client lost a call', notes: [] },
    });
    assert.equal(result.ok, true);
  });

  it('✗ a client expected to stay stuck that spread', () => {
    const result = verdicts(run({ grpc: client('L4', 'stuck', { '10.1.0.8': 10, '10.1.0.11': 5 }) }));
    const [, grpc] = result.scaledUp.verdicts;
    assert.deepEqual(grpc, {
      ok: false,
      line: '✗ client-grpc (L4): spread over 2 of 5 pods',
      notes: ['expected stuck on one pod, as in the post'],
    });
    assert.equal(result.ok, false);
  });

  it('✗ a client expected to spread that stayed stuck', () => {
    const result = verdicts(run({ http: { ...client('L4', 'spread', { '10.1.0.8': 15 }), name: 'client-http' } }));
    const [http] = result.scaledUp.verdicts;
    assert.deepEqual(http, {
      ok: false,
      line: '✗ client-http (L4): stuck on 10.1.0.8 (100 %)',
      notes: ['expected spread over the pods, as in the post'],
    });
    assert.equal(result.ok, false);
  });

  it('✗ a client expected on every pod that missed one, naming it; several are folded', () => {
    const missedOne = verdicts(
      run({ mesh: client('mesh', 'every-pod', { '10.1.0.8': 4, '10.1.0.9': 4, '10.1.0.10': 4, '10.1.0.11': 3 }) }),
    );
    assert.deepEqual(missedOne.scaledUp.verdicts[2], {
      ok: false,
      line: '✗ client-grpc (mesh): spread over 4 of 5 pods',
      notes: ['expected every pod, as in the post', 'no reply from 10.1.0.12'],
    });
    assert.equal(missedOne.ok, false);
    const missedFour = verdicts(run({ mesh: client('mesh', 'every-pod', { '10.1.0.8': 15 }) }));
    assert.deepEqual(missedFour.scaledUp.verdicts[2]?.notes, [
      'expected every pod, as in the post',
      'no reply from 10.1.0.9, 10.1.0.10 and 2 more',
    ]);
    assert.equal(missedFour.scaledUp.verdicts[2]?.line, '✗ client-grpc (mesh): stuck on 10.1.0.8 (100 %)');
  });

  it('✗ no replies at all, whatever was expected', () => {
    for (const sees of ['spread', 'stuck', 'every-pod'] as const) {
      const result = verdicts(run({ grpc: client('L4', sees, {}, { errors: 15 }) }));
      assert.equal(result.scaledUp.verdicts[1]?.line, '✗ client-grpc (L4): no replies at all', sees);
      assert.equal(result.ok, false, sees);
    }
  });

  it('✗ calls lost while scaling down, though every client saw what the post saw', () => {
    const result = verdicts(run({}, { http: 2, mesh: 1 }));
    assert.ok(result.scaledUp.verdicts.every((v) => v.ok));
    assert.deepEqual(result.scaledDown, {
      replicas: 2,
      verdict: { ok: false, line: '✗ 3 calls failed', notes: ['client-http (L4): 2', 'client-grpc (mesh): 1'] },
    });
    assert.equal(result.ok, false);
  });

  it('✗ a run that ended before the phases were counted', () => {
    const [before] = run({});
    const result = verdicts([before as PhaseTally]);
    assert.deepEqual(
      result.scaledUp.verdicts.map((v) => v.line),
      ['✗ the run ended before the scale-up was counted'],
    );
    assert.equal(result.scaledDown.verdict.line, '✗ the run ended before the scale-down was counted');
    assert.equal(result.ok, false);
  });

  it('judges by the expectation a client carries, not by its protocol or path', () => {
    // An HTTP client through the Service, expected on every pod (say, a fix under test), and a mesh
    // client expected stuck: the same counts as above, the verdicts follow the expectations.
    const http = {
      ...client('L4', 'every-pod', { '10.1.0.8': 4, '10.1.0.9': 5, '10.1.0.10': 6 }),
      name: 'client-http',
      protocol: 'http' as const,
    };
    const mesh = client('mesh', 'stuck', asInThePost().mesh.counts);
    const result = verdicts(run({ http, mesh }));
    assert.deepEqual(
      result.scaledUp.verdicts.map((v) => v.ok),
      [false, true, false],
    );
    assert.deepEqual(result.scaledUp.verdicts[0]?.notes, [
      'expected every pod, as in the post',
      'no reply from 10.1.0.11, 10.1.0.12',
    ]);
  });

  it('finds the scaled-up phase by its name, not by its replicas', () => {
    const phases = run({});
    const [before, up, down] = phases as [PhaseTally, PhaseTally, PhaseTally];
    // A run that starts big: the phase with the most replicas is not the one judged.
    const bigStart = [{ ...before, replicas: 8 }, up, down];
    assert.equal(verdicts(bigStart).scaledUp.replicas, 5);
    assert.equal(verdicts(bigStart).ok, true);
  });
});

describe('the report', () => {
  it('first calls: median and max over the new pods that got one, and how many got none', () => {
    assert.deepEqual(firstCallFigures({ a: 300, b: 120, c: 900 }), {
      newPods: 3,
      reached: 3,
      medianMs: 300,
      maxMs: 900,
    });
    // Nearest rank, as every figure of the kit: of an even count, the lower middle value (one measured).
    assert.deepEqual(firstCallFigures({ a: 300, b: 120, c: 900, d: 480 }), {
      newPods: 4,
      reached: 4,
      medianMs: 300,
      maxMs: 900,
    });
    assert.deepEqual(firstCallFigures({ a: null, b: 120, c: null }), {
      newPods: 3,
      reached: 1,
      medianMs: 120,
      maxMs: 120,
    });
    assert.deepEqual(firstCallFigures({ a: null }), { newPods: 1, reached: 0, medianMs: null, maxMs: null });
  });

  it('says how long the rollout took and how soon each L7 client reached the new pods', () => {
    const phases = run({});
    const text = reportText(phases, verdicts(phases));
    assert.match(text, /^Phase 2\/3: scaled up — 5 replicas, 15 s from the rollout's end$/m);
    assert.match(text, /^After scaling up to 5 \(the rollout took 1\.1 s\):$/m);
    assert.match(text, /^ {2}client-grpc \(mesh\): median 300 ms, max 900 ms \(4 new pods\)$/m);
    assert.doesNotMatch(text, /client-grpc \(L4\): median/);
    assert.match(text, /^While scaling down to 2:\n {2}✓ no client lost a call\n\nThe lab saw what the post saw\.$/m);
  });

  it('fits 80 columns with four clients, pod IPs of 127.244.0.x and every ✗ at once', () => {
    const wide = (tally: PhaseTally): PhaseTally => {
      const ip = (old: string) => old.replace('10.1.0.', '127.244.0.');
      const rename = (record: Record<string, number | null>) =>
        Object.fromEntries(Object.entries(record).map(([k, v]) => [ip(k), v]));
      return {
        ...tally,
        pods: tally.pods.map(ip),
        clients: tally.clients.map((c) => ({
          ...c,
          counts: rename(c.counts) as Record<string, number>,
          ...(c.firstCallMs ? { firstCallMs: rename(c.firstCallMs) } : {}),
        })),
      };
    };
    const resolver = client(
      'k8s',
      'every-pod',
      { '10.1.0.8': 15 },
      { firstCallMs: { '10.1.0.9': null, '10.1.0.10': 12345, '10.1.0.11': null, '10.1.0.12': null } },
    );
    const base = run(
      {
        grpc: client('L4', 'stuck', {
          '10.1.0.8': 1000,
          '10.1.0.9': 1000,
          '10.1.0.10': 1000,
          '10.1.0.11': 1000,
          '10.1.0.12': 1000,
        }),
      },
      { http: 1, grpc: 2, mesh: 3 },
    );
    const phases = base.map((p) =>
      wide({
        ...p,
        clients: [...p.clients, p.name === 'scaled up' ? resolver : { ...resolver, firstCallMs: undefined, errors: 4 }],
      }),
    );
    const result = verdicts(phases);
    assert.equal(result.ok, false);
    const text = reportText(phases, result);
    for (const line of text.split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
    assert.match(text, /client-grpc \(k8s\): median 12345 ms, max 12345 ms \(4 new pods, 3 got none\)/);
    assert.match(text, /no reply from 127\.244\.0\.9, 127\.244\.0\.10 and 2 more/);
    assert.match(text, /The lab did NOT see what the post saw/);
  });

  it('JSON: the counts per phase and client as before, with the expectations, the rollout and the first calls', () => {
    const phases = run({});
    const json = reportJson(phases, verdicts(phases));
    assert.equal(json.ok, true);
    const up = json.phases[1];
    assert.equal(up?.rolloutMs, 1130);
    assert.deepEqual(up?.pods, FIVE);
    const mesh = up?.clients[2];
    assert.deepEqual(
      {
        name: mesh?.name,
        protocol: mesh?.protocol,
        path: mesh?.path,
        errors: mesh?.errors,
        label: mesh?.label,
        expect: mesh?.expect,
      },
      {
        name: 'client-grpc',
        protocol: 'grpc',
        path: 'l7',
        errors: 0,
        label: 'client-grpc (mesh)',
        expect: 'every-pod',
      },
    );
    assert.equal(mesh?.counts['10.1.0.12'], 3);
    assert.deepEqual(mesh?.firstCall, {
      newPods: 4,
      reached: 4,
      medianMs: 300,
      maxMs: 900,
      pods: { '10.1.0.9': 120, '10.1.0.10': 480, '10.1.0.11': 300, '10.1.0.12': 900 },
    });
    assert.equal(up?.clients[1]?.firstCall, undefined, 'an L4 client has no first-call figures');
    assert.equal(json.phases[0]?.rolloutMs, undefined, 'no rollout before scaling');
  });

  it("another scenario's phases are shown, not judged against the post", () => {
    assert.equal(judgeable(['before scaling', 'scaled up', 'scaled down']), true);
    assert.equal(judgeable(['before the rollout', 'after the rollout', 'a minute later']), false);
    const phases = run({}).map((phase, i) => ({ ...phase, name: `phase ${i + 1}` }));
    const text = reportText(phases, undefined);
    assert.match(text, /^Phase 1\/3: phase 1/);
    assert.doesNotMatch(text, /post saw|✓|✗/);
    assert.equal(reportJson(phases, undefined).ok, null);
  });
});
