// The latency probe `lab compare` runs per strategy (as `lab probe`, a process of its own with the
// strategy's environment): GetAddr at a fixed rate through the strategy's target, each call started on
// schedule whether or not the previous one is done (an open loop, as h2load --rps), the channel set up
// as the strategy's client sets it up. Prints one JSON line: {"p50":…, "p99":…, "calls":…, "failed":…}.
import * as grpc from '@grpc/grpc-js';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadAddrProto } from '../../common/proto.js';
import { percentile } from '../../common/statistics.js';

export interface ProbeOptions {
  target: string;
  lb: 'pick_first' | 'round_robin';
  rate: number;
  seconds: number;
}

export interface ProbeResult {
  p50: number;
  p99: number;
  calls: number;
  failed: number;
}

const WARM_UP_CALLS = 20;

export async function probe({ target, lb, rate, seconds }: ProbeOptions): Promise<ProbeResult> {
  if (target.startsWith('xds:')) (await import('@grpc/grpc-js-xds')).register();
  if (target.startsWith('k8s:')) await (await import('../../clients/k8s-resolver.js')).registerK8sResolver();
  const { Addr } = loadAddrProto();
  const client = new Addr(target, grpc.credentials.createInsecure(), {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [lb]: {} }] }),
  });
  const call = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      client.getAddr({}, { deadline: Date.now() + 5000 }, (error) =>
        error ? reject(error) : resolve(performance.now() - started),
      );
    });
  try {
    // Warm up: connections open, the resolver (or control plane) has answered, every pod was dialled.
    for (let i = 0; i < WARM_UP_CALLS; i++) await call().catch(() => undefined);
    const latencies: number[] = [];
    let failed = 0;
    const pending: Promise<void>[] = [];
    const total = Math.max(1, Math.round(rate * seconds));
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        call().then(
          (ms) => void latencies.push(ms),
          () => void (failed += 1),
        ),
      );
    }
    await Promise.all(pending);
    if (latencies.length === 0) throw new Error(`no call succeeded (${failed} failed)`);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), calls: latencies.length, failed };
  } finally {
    client.close();
  }
}
