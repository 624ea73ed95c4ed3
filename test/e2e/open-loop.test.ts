// client-grpc --rate against a pod the test controls (a grpc-js server in this process, answering when the
// test says): calls start on schedule whatever the answers take, so a slow pod holds many calls at once;
// the lines come in call order; --output jsonl gives what latency percentiles and success within a
// deadline are computed from; SIGTERM cancels the calls in flight and exits 0.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { describe, it } from 'node:test';
import { loadAddrProto } from '../../src/common/proto.js';
import { parseCall } from '../../src/common/output.js';
import { percentile } from '../../src/common/statistics.js';
import { addrProtoFile } from '../support/grpc.js';
import { exitWithin, replies, start } from './support/processes.js';
import { waitUntil } from '../support/wait.js';

interface HeldCall {
  /** its place among the calls the pod received, from 1 */
  arrival: number;
  answer(): void;
  fail(code: grpc.status): void;
  cancelled: boolean;
}

/** A pod whose calls wait until the test answers them; `onCall` sees each as it arrives. */
async function controlledPod(onCall: (call: HeldCall) => void) {
  const { Addr } = loadAddrProto(addrProtoFile);
  const server = new grpc.Server();
  const calls: HeldCall[] = [];
  let inFlight = 0;
  let most = 0;
  server.addService(Addr.service, {
    getAddr: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      let done = false;
      const end = () => {
        if (done) return false;
        done = true;
        inFlight -= 1;
        return true;
      };
      const held: HeldCall = {
        arrival: calls.length + 1,
        answer: () => end() && callback(null, { addr: `10.3.0.${held.arrival}`, pod: 'controlled' }),
        fail: (code) => end() && callback({ code, details: 'the pod says no' }),
        cancelled: false,
      };
      call.on('cancelled', () => {
        held.cancelled = true;
        end();
      });
      calls.push(held);
      onCall(held);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    target: `127.0.0.1:${port}`,
    calls,
    inFlight: () => inFlight,
    mostInFlight: () => most,
    close: () => server.forceShutdown(),
  };
}

describe('client-grpc --rate (an open loop)', () => {
  it('keeps starting calls while a slow pod holds the earlier ones: they pile up at the pod', async () => {
    // The pod answers each call 400 ms after it came.
    const pod = await controlledPod((call) => setTimeout(() => call.answer(), 400));
    const client = start('client-grpc', [pod.target, '--rate', '50', '--count', '40']);
    try {
      assert.equal(await exitWithin(client, 30_000), 0, client.lines.join('\n'));
      assert.equal(replies(client.lines).length, 40);
      // A closed loop (--interval) never has more than one; 50 calls a second held 400 ms each make ~20.
      assert.ok(pod.mostInFlight() >= 8, `at most ${pod.mostInFlight()} calls in flight at the pod at once`);
    } finally {
      pod.close();
    }
  });

  it('--interval, for contrast, has one call in flight at a time', async () => {
    const pod = await controlledPod((call) => setTimeout(() => call.answer(), 50));
    const client = start('client-grpc', [pod.target, '--interval', '10', '--count', '10']);
    try {
      assert.equal(await exitWithin(client, 30_000), 0, client.lines.join('\n'));
      assert.equal(pod.mostInFlight(), 1);
    } finally {
      pod.close();
    }
  });

  it('prints the replies in the order the calls started, though the first one is answered last', async () => {
    // Call 1 is held until calls 2-5 have been answered.
    const pod = await controlledPod((call) => {
      if (call.arrival > 1) call.answer();
      if (call.arrival === 5) pod.calls[0]?.answer();
    });
    const client = start('client-grpc', [pod.target, '--rate', '100', '--count', '5']);
    try {
      assert.equal(await exitWithin(client, 30_000), 0, client.lines.join('\n'));
      assert.deepEqual(
        client.lines.filter((line) => line !== ''),
        ['#1: 10.3.0.1', '#2: 10.3.0.2', '#3: 10.3.0.3', '#4: 10.3.0.4', '#5: 10.3.0.5'],
      );
    } finally {
      pod.close();
    }
  });

  it('--output jsonl: one record per call, from which latency percentiles and success within a deadline follow', async () => {
    // Every fifth call fails at once; every fifth, offset, is answered after 300 ms; the rest at once.
    const pod = await controlledPod((call) => {
      if (call.arrival % 5 === 0) call.fail(grpc.status.UNAVAILABLE);
      else if (call.arrival % 5 === 3) setTimeout(() => call.answer(), 300);
      else call.answer();
    });
    const client = start('client-grpc', [pod.target, '--rate', '100', '--count', '20', '--output', 'jsonl']);
    try {
      assert.equal(await exitWithin(client, 30_000), 0, client.lines.join('\n'));
      const lines = client.lines.filter((line) => line !== '');
      const records = lines.map((line) => parseCall(line));
      assert.ok(
        records.every((record) => record !== undefined),
        `every line is a call record:\n${lines.join('\n')}`,
      );
      const calls = records.flatMap((record) => (record ? [record] : []));
      assert.deepEqual(
        calls.map((call) => call.n),
        Array.from({ length: 24 }, (_, i) => i + 1),
        '20 replies and 4 failures (calls 5, 10, 15, 20), in call order',
      );
      for (const call of calls) {
        const expected = call.n % 5 === 0 ? ['UNAVAILABLE', ''] : ['OK', `10.3.0.${call.n}`];
        assert.deepEqual([call.code, call.pod], expected, JSON.stringify(call));
        if (call.code !== 'OK') assert.match(call.error ?? '', /^UNAVAILABLE: the pod says no$/);
      }
      // What the lab's recorder computes, from these records alone:
      const slow = calls.filter((call) => call.n % 5 === 3);
      assert.ok(
        slow.every((call) => call.ms >= 290),
        `the held calls' latency covers the 300 ms: ${slow.map((c) => c.ms)}`,
      );
      const within = (deadlineMs: number) =>
        calls.filter((call) => call.code === 'OK' && call.ms <= deadlineMs).length / calls.length;
      assert.equal(within(60_000), 20 / 24);
      assert.ok(within(250) <= 15 / 24, 'the 5 calls held 300 ms miss a 250 ms deadline');
      assert.ok(
        percentile(
          calls.map((call) => call.ms),
          100,
        ) >= 290,
      );
      const starts = calls.map((call) => call.t);
      assert.deepEqual(
        starts,
        [...starts].sort((a, b) => a - b),
        'start times in call order',
      );
    } finally {
      pod.close();
    }
  });

  it('SIGTERM with calls in flight: cancels them, reports none of them, exits 0', async () => {
    const pod = await controlledPod(() => undefined); // never answers
    const client = start('client-grpc', [pod.target, '--rate', '50']);
    try {
      await waitUntil('5 calls held at the pod', () => pod.inFlight() >= 5);
      client.child.kill('SIGTERM');
      assert.equal(await exitWithin(client, 10_000), 0, client.lines.join('\n'));
      await waitUntil('the calls cancelled at the pod', () => pod.calls.every((call) => call.cancelled), 5000);
      assert.deepEqual(
        client.lines.filter((line) => line !== ''),
        [],
      );
    } finally {
      pod.close();
    }
  });
});
