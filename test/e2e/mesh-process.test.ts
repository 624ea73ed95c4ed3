// out/mesh as a program: fed by the Service's EndpointSlices through the lab's Kubernetes API, it prints
// where it listens, answers through the pods the API lists, tells its events on stdout, stops on SIGTERM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMeshEvent, parseMeshListening } from '../../src/lab/data-plane/mesh-process.js';
import { addrClient } from '../support/grpc.js';
import { getAddr, startPod } from '../support/mesh-pods.js';
import { publishPod, serviceFixtures } from '../support/slice-api.js';
import { start } from './support/processes.js';

const { apiWith, keep } = serviceFixtures();

describe('out/mesh', () => {
  it('prints where it listens, answers through the pods the API lists, tells its events, and stops on SIGTERM', async () => {
    const api = await apiWith('three');
    const pod = await startPod('127.0.0.1');
    keep(pod);
    publishPod(api, 'three', pod);
    const mesh = start('mesh', ['--api', `http://127.0.0.1:${api.port}`, '--service', 'three', '--port', '0']);
    try {
      const port = parseMeshListening((await mesh.waitFor(/msg=listening /)).input ?? '');
      assert.ok(port, mesh.lines.join('\n'));
      const client = addrClient(port);
      assert.deepEqual(await getAddr(client), { addr: '127.0.0.1' });
      client.close();
      publishPod(api, 'three', pod, false);
      await mesh.waitFor(/"event":"endpoints","ips":\[\]/);
      const events = mesh.lines.map(parseMeshEvent).filter((e) => e !== undefined);
      assert.deepEqual(
        events.map((e) => e.event),
        ['connected', 'endpoints'],
      );
      assert.equal(await mesh.stop('SIGTERM'), 0);
    } finally {
      await mesh.stop('SIGKILL');
    }
  });
});
