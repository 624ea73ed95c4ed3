// The soak's lab rounds. `out/lab up` with 3 pods under h2load's 200 concurrent streams through the
// mesh, one pod stopped with SIGSTOP part-way: a witness client beside h2load sends calls at a steady
// rate and counts how each ended (h2load sees HTTP statuses, and a failed gRPC call is still a 200).
// And the lab's own ports — the mesh's and the Service's — held, starved and garbled as the pods' are,
// with the lab's descriptors counted before and after.
import * as grpc from '@grpc/grpc-js';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadAddrProto } from '../src/common/proto.js';
import type { BalancerName } from '../src/lab/data-plane/balancer.js';
import { h2loadGrpc, type LoadResult } from './load.js';
import { hostileConnections, idleConnections, type HostileResult, type IdleResult } from './soak-connections.js';
import { startLabUp } from './servers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stderr.write(`soak: ${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PodStatus {
  ip: string;
  ready: boolean;
  pid?: number;
}

/** The lab's pods, from its Kubernetes API: IP, readiness, and the process (containerID process://PID). */
async function podsOf(apiPort: number): Promise<PodStatus[]> {
  const list = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/namespaces/grpc-lb/pods`)).json()) as {
    items: Array<{
      status: {
        podIP?: string;
        conditions?: Array<{ type: string; status: string }>;
        containerStatuses?: Array<{ containerID?: string }>;
      };
    }>;
  };
  return list.items.map(({ status }) => ({
    ip: status.podIP ?? '',
    ready: status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    pid: Number(/^process:\/\/(\d+)$/.exec(status.containerStatuses?.[0]?.containerID ?? '')?.[1]) || undefined,
  }));
}

export interface LabResult {
  load: LoadResult;
  balancer: string;
  stoppedIp: string;
  stoppedAtSeconds: number;
  witness: {
    calls: number;
    succeeded: number;
    failed: Record<string, number>;
    lastFailureAfterStopSeconds: number | undefined;
  };
  /**
   * seconds from SIGSTOP to the mesh's first line about the pod (its connection dropped for a missed PING,
   * or failure accrual set it aside), and the calls it had sent the pod by then
   */
  meshAsideAfter: number | undefined;
  meshSentBeforeAside: number | undefined;
  /** seconds from SIGSTOP until the lab's readiness probe took the pod out of the endpoints */
  readinessAfter: number | undefined;
}

/** Pids of pods stopped with SIGSTOP, so that whoever stops the soak can let them go on (and end) first. */
export const stoppedPids = new Set<number>();

export async function labUnderLoad(
  seconds: number,
  stopAtSeconds: number,
  streams: number,
  balancer: BalancerName,
): Promise<LabResult> {
  const lab = await startLabUp('127.251.0.0/24', [
    '--replicas',
    '3',
    '--no-mesh-client',
    '--no-service-clients',
    '--no-k8s-client',
    '--mesh-balancer',
    balancer,
  ]);
  const meshLines: Array<{ at: number; line: string }> = [];
  if (lab.child.stdout) {
    createInterface({ input: lab.child.stdout }).on('line', (line) => {
      if (/ mesh: /.test(line)) meshLines.push({ at: performance.now(), line });
    });
  }
  const status = () => podsOf(lab.ready.api);
  const { Addr } = loadAddrProto(`${root}proto/addr.proto`);
  const witness = new Addr(`127.0.0.1:${lab.ready.mesh}`, grpc.credentials.createInsecure());
  try {
    let pods: PodStatus[] = [];
    for (let i = 0; i < 300 && pods.filter((p) => p.ready).length < 3; i++) {
      await pause(100);
      pods = await status();
    }
    const victim = pods.filter((p) => p.ready)[1];
    if (!victim?.pid) throw new Error('the lab did not get 3 pods ready within 30 s');

    say(`h2load: ${streams} streams through the mesh for ${seconds} s; SIGSTOP ${victim.ip} after ${stopAtSeconds} s`);
    const url = `http://127.0.0.1:${lab.ready.mesh}/addr.Addr/GetAddr`;
    const load = h2loadGrpc(url, seconds, 1, streams, undefined, ['grpc-timeout: 2S']);

    // The witness: a call every 20 ms, each with a 2 s deadline, not waiting for the one before.
    const outcomes: Array<Promise<{ at: number; code: string }>> = [];
    const started = performance.now();
    const witnessing = setInterval(() => {
      const at = performance.now();
      outcomes.push(
        new Promise((resolve) =>
          witness.getAddr({}, { deadline: Date.now() + 2000 }, (error) =>
            resolve({ at, code: error ? (grpc.status[error.code] ?? String(error.code)) : 'OK' }),
          ),
        ),
      );
    }, 20);

    await pause(stopAtSeconds * 1000);
    process.kill(victim.pid, 'SIGSTOP');
    stoppedPids.add(victim.pid);
    const stoppedAt = performance.now();
    let readinessAfter: number | undefined;
    while (readinessAfter === undefined && performance.now() - started < seconds * 1000) {
      await pause(100);
      if (!(await status()).find((p) => p.ip === victim.ip)?.ready)
        readinessAfter = (performance.now() - stoppedAt) / 1000;
    }
    const result = await load;
    clearInterval(witnessing);
    const ended = await Promise.all(outcomes);
    process.kill(victim.pid, 'SIGCONT');
    stoppedPids.delete(victim.pid);

    const failures = ended.filter((o) => o.code !== 'OK');
    const failed: Record<string, number> = {};
    for (const { code } of failures) failed[code] = (failed[code] ?? 0) + 1;
    const aside = meshLines.find(
      ({ at, line }) =>
        at >= stoppedAt && line.includes(`mesh: ${victim.ip} `) && /out of the balancer|connection dropped/.test(line),
    );
    const lastFailure = failures.at(-1);
    return {
      load: result,
      balancer,
      stoppedIp: victim.ip,
      stoppedAtSeconds: stopAtSeconds,
      witness: {
        calls: ended.length,
        succeeded: ended.length - failures.length,
        failed,
        lastFailureAfterStopSeconds: lastFailure ? (lastFailure.at - stoppedAt) / 1000 : undefined,
      },
      meshAsideAfter: aside ? (aside.at - stoppedAt) / 1000 : undefined,
      meshSentBeforeAside: aside
        ? Number(/\((\d+) requests? sent since its last response\)/.exec(aside.line)?.[1])
        : undefined,
      readinessAfter,
    };
  } finally {
    for (const pid of stoppedPids) process.kill(pid, 'SIGCONT');
    witness.close();
    lab.child.kill('SIGINT');
    await new Promise((resolve) => lab.child.once('exit', resolve));
  }
}

export interface LabPortsResult {
  idle: IdleResult;
  hostile: HostileResult[];
  /** GET /addr with the sending side shut at once, through the Service: answered of sent */
  halfClosed: { answered: number; sent: number };
  /** descriptors the lab process held before the round, at its height, and after */
  descriptors: { before: number; most: number; after: number };
  answeredAtEnd: string;
}

/** The lab's mesh and Service ports under the soak's idle and hostile connections, and half-closed requests. */
export async function labPorts(seconds: number, idleCount: number, hostileCount: number): Promise<LabPortsResult> {
  const lab = await startLabUp('127.251.1.0/24', [
    '--replicas',
    '1',
    '--no-mesh-client',
    '--no-service-clients',
    '--no-k8s-client',
  ]);
  const pid = lab.child.pid as number;
  const descriptors = () => readdirSync(`/proc/${pid}/fd`).length;
  const ports = {
    mesh: lab.ready.mesh,
    grpc: lab.ready.grpc,
    http: lab.ready.http,
  };
  try {
    for (let i = 0; i < 300 && !(await podsOf(lab.ready.api)).some((p) => p.ready); i++) await pause(100);
    const before = descriptors();
    let most = before;
    const watch = setInterval(() => (most = Math.max(most, descriptors())), 250);
    const call = () => getAddrOnce(ports.mesh);
    say(`the lab's mesh port: ${idleCount} idle HTTP/2 connections for ${seconds} s`);
    const idle = await idleConnections(ports.mesh, idleCount, 60_000, seconds * 1000, {
      opened: async () => undefined,
      held: async () => undefined,
    });
    say(`the lab's mesh and Service ports: ${hostileCount} connections of each hostile kind for ${seconds} s`);
    let answeredAtEnd = '';
    const hostile = await hostileConnections(
      { grpc: ports.mesh, http: ports.http },
      hostileCount,
      seconds,
      async () => {
        answeredAtEnd = await call();
      },
    );
    say('the Service: 100 GET /addr HTTP/1.0, each sending side shut at once');
    const answers = await Promise.all(Array.from({ length: 100 }, () => halfClosedGet(ports.http)));
    await pause(2000);
    clearInterval(watch);
    return {
      idle,
      hostile,
      halfClosed: { answered: answers.filter((a) => / 200 /.test(a)).length, sent: answers.length },
      descriptors: { before, most, after: descriptors() },
      answeredAtEnd,
    };
  } finally {
    lab.child.kill('SIGINT');
    await new Promise((resolve) => lab.child.once('exit', resolve));
  }
}

function getAddrOnce(port: number): Promise<string> {
  const { Addr } = loadAddrProto(`${root}proto/addr.proto`);
  const client = new Addr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const started = performance.now();
  return new Promise((resolve) =>
    client.getAddr({}, { deadline: Date.now() + 5000 }, (error) => {
      client.close();
      resolve(error ? `no: ${grpc.status[error.code]}` : `yes, in ${(performance.now() - started).toFixed(0)} ms`);
    }),
  );
}

function halfClosedGet(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy());
    socket.end('GET /addr HTTP/1.0\r\n\r\n');
  });
}
