// Where the machine has no loopback addresses but 127.0.0.1 (macOS by default), the lab runs its pods on
// 127.0.0.1 with ports of their own, their pod IPs only labels. The run must still see what the post saw
// with the post's three clients, and say in one line that the k8s:/// client, which dials pod IPs, is
// left out. Linux has the addresses, so the hidden --pod-addresses=false forces the fallback here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import type { reportJson } from '../../src/lab/run/report.js';
import { waitUntil } from '../support/wait.js';
import { podNetwork } from './support/pod-network.js';
import { podProcesses } from './support/pods.js';
import { exitWithin, start } from './support/processes.js';

type Report = ReturnType<typeof reportJson>;

/** A process's command line, its arguments apart. */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('lab on a machine whose pods cannot have addresses of their own', () => {
  it("sees what the post saw with the post's three clients, and says once that the k8s:/// client is left out", async () => {
    const net = podNetwork('pod-addresses');
    const json = `${mkdtempSync(`${tmpdir()}/grpc-lb-lab-`)}/report.json`;
    const lab = start('lab', [
      '--pod-addresses=false',
      '--phase-seconds',
      '4',
      '--interval',
      '100',
      '--http-node-port',
      '0',
      '--grpc-node-port',
      '0',
      '--mesh-port',
      '0',
      '--pod-cidr',
      net.cidr,
      '--json',
      json,
    ]);
    try {
      // The first pod: told its pod IP, listening on 127.0.0.1 on ports of its own.
      await waitUntil('the first pod runs', () => podProcesses(net).length > 0, 30_000, 100);
      const [pid = 0] = podProcesses(net);
      const args = commandLine(pid);
      assert.equal(args[args.indexOf('--host') + 1], '127.0.0.1', args.join(' '));
      assert.equal(args[args.indexOf('--http-port') + 1], '0');

      assert.equal(await exitWithin(lab, 90_000), 0, lab.lines.join('\n'));
      const leftOut = lab.lines.filter((line) => /left out/.test(line));
      assert.equal(leftOut.length, 1, leftOut.join('\n'));
      assert.match(
        leftOut[0] ?? '',
        /lab: client-grpc \(k8s\) left out: pods have no addresses of their own on this machine, so no client can dial them$/,
      );
      assert.match(lab.lines.join('\n'), /^The lab saw what the post saw\.$/m);

      const { ok, phases } = JSON.parse(readFileSync(json, 'utf8')) as Report;
      assert.equal(ok, true);
      const up = phases.find((phase) => phase.name === 'scaled up');
      const five = [8, 9, 10, 11, 12].map(net.ip).sort();
      const reached = (label: string) => Object.keys(up?.clients.find((c) => c.label === label)?.counts ?? {}).sort();
      assert.deepEqual(
        up?.clients.map((c) => c.label),
        ['client-http (L4)', 'client-grpc (L4)', 'client-grpc (mesh)'],
      );
      assert.deepEqual(reached('client-grpc (L4)'), [net.ip(8)], 'gRPC through the Service stays on the first pod');
      assert.deepEqual(reached('client-grpc (mesh)'), five, 'gRPC in the mesh reaches every pod, by its pod IP');
      assert.ok(reached('client-http (L4)').length >= 2, 'HTTP through the Service spreads');
      assert.deepEqual(podProcesses(net), [], 'a pod outlived the run');
    } finally {
      await lab.stop('SIGKILL');
    }
  });
});
