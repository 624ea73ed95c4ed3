// The lab: the post's experiment on one machine. Assertions are on counts, never on timings.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { exitWithin, freePort, replies, root, run, start } from './support/processes.js';

const ephemeral = ['--http-node-port', '0', '--grpc-node-port', '0', '--mesh-port', '0'];

interface ClientReport {
  name: string;
  label: string;
  protocol: string;
  path: string;
  expect: string;
  counts: Record<string, number>;
  errors: number;
  firstCall?: {
    newPods: number;
    reached: number;
    medianMs: number | null;
    maxMs: number | null;
    pods: Record<string, number | null>;
  };
}
interface Phase {
  name: string;
  replicas: number;
  rolloutMs?: number;
  pods: string[];
  clients: ClientReport[];
}
interface Report {
  ok: boolean;
  phases: Phase[];
}

const client = (phase: Phase, label: string) => {
  const found = phase.clients.find((c) => c.label === label);
  assert.ok(found, `no ${label} in ${phase.name}`);
  return found;
};

interface PodObject {
  metadata: { name: string; deletionTimestamp?: string };
  status: {
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ containerID?: string }>;
  };
}

/** The Deployment's replicas and its pods, read from the lab's Kubernetes API as kubectl would. */
async function status(apiPort: number) {
  const api = `http://127.0.0.1:${apiPort}`;
  const deployment = (await (await fetch(`${api}/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server`)).json()) as {
    spec: { replicas: number };
  };
  const list = (await (await fetch(`${api}/api/v1/namespaces/grpc-lb/pods`)).json()) as { items: PodObject[] };
  return {
    replicas: deployment.spec.replicas,
    pods: list.items
      .map((pod) => ({
        name: pod.metadata.name,
        ip: pod.status.podIP ?? '',
        ready: pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        terminating: Boolean(pod.metadata.deletionTimestamp),
        pid: Number(/^process:\/\/(\d+)$/.exec(pod.status.containerStatuses?.[0]?.containerID ?? '')?.[1]),
      }))
      .sort((a, b) => ipOrder(a.ip, b.ip)),
  };
}
const ipOrder = (a: string, b: string) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1));

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Each lab gets a pod network of its own, so that labs never share a pod address. */
let network = 0;
async function labUp(extra: string[] = []) {
  const prefix = `127.245.${++network + (process.pid % 200)}.`;
  // The lab's own clients but the mesh's stay off: these tests run the post's client commands themselves.
  const lab = start('lab', [
    'up',
    ...ephemeral,
    '--api-port',
    '0',
    '--dashboard-port',
    '0',
    '--no-service-clients',
    '--no-k8s-client',
    '--interval',
    '100',
    '--pod-cidr',
    `${prefix}0/24`,
    ...extra,
  ]);
  const match = await lab.waitFor(/HTTP 127\.0\.0\.1:(\d+), gRPC :(\d+) · mesh :(\d+) · API :(\d+)/);
  return {
    lab,
    http: Number(match[1]),
    grpc: Number(match[2]),
    mesh: Number(match[3]),
    apiPort: Number(match[4]),
    ip: (n: number) => `${prefix}${n}`,
  };
}

describe('lab (the default run)', () => {
  it("sees what the post saw: HTTP spreads, gRPC via the Service sticks, gRPC in the mesh spreads, counted from the rollout's end; exit 0", async () => {
    const json = `${mkdtempSync(`${tmpdir()}/grpc-lb-lab-`)}/report.json`;
    const net = `127.247.${process.pid % 200}.`;
    const { code, output } = await run(
      'lab',
      ['--phase-seconds', '4', '--interval', '100', ...ephemeral, '--pod-cidr', `${net}0/24`, '--json', json],
      60_000,
    );
    assert.equal(code, 0, output);
    assert.match(output, /rollout complete: 5 of 5 pods ready after \d+\.\d s/);
    assert.match(output, /^After scaling up to 5 \(the rollout took \d+\.\d s\):$/m);
    assert.match(
      output,
      new RegExp(`✓ client-grpc \\(L4\\): stuck on ${net.replaceAll('.', '\\.')}8 \\(100 %\\), as in the post`),
    );
    assert.match(
      output,
      /^From a new pod's Ready to its first call:\n {2}client-grpc \(mesh\): median \d+ ms, max \d+ ms \(4 new pods\)\n {2}client-grpc \(k8s\): median \d+ ms, max \d+ ms \(4 new pods\)$/m,
    );
    assert.match(output, /✓ client-grpc \(k8s\): spread over 5 of 5 pods, as a client-side balancer should/);
    assert.match(output, /^While scaling down to 2:\n {2}✓ no client lost a call$/m);
    assert.match(output, /The lab saw what the post saw/);
    const progress = /^ *\d+\.\ds {2}/; // stderr's lines, which may arrive among the report's
    const table = output
      .slice(output.indexOf('Phase 1/3'))
      .split('\n')
      .filter((line) => !progress.test(line));
    for (const line of table) assert.ok(line.length <= 80, `the report is wider than 80 columns: ${line}`);

    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.phases.map((p) => [p.name, p.replicas]),
      [
        ['before scaling', 1],
        ['scaled up', 5],
        ['scaled down', 2],
      ],
    );
    const [before, up, down] = report.phases as [Phase, Phase, Phase];
    const first = `${net}8`;
    const five = [8, 9, 10, 11, 12].map((n) => `${net}${n}`).sort();
    for (const c of before.clients) assert.deepEqual(Object.keys(c.counts), [first], `${c.label} before scaling`);

    // Counting began once all five pods were ready: every one of them is in the phase.
    assert.equal(typeof up.rolloutMs, 'number');
    assert.deepEqual([...up.pods].sort(), five);
    assert.ok(
      Object.keys(client(up, 'client-http (L4)').counts).length >= 2,
      `HTTP through the Service reaches new pods\n${output}`,
    );
    assert.deepEqual(
      Object.keys(client(up, 'client-grpc (L4)').counts),
      [first],
      'gRPC through the Service stays on the first pod',
    );
    const mesh = client(up, 'client-grpc (mesh)');
    assert.deepEqual(Object.keys(mesh.counts).sort(), five, 'gRPC in the mesh reaches all five pods');
    assert.deepEqual(
      Object.keys(mesh.firstCall?.pods ?? {}).sort(),
      five.filter((ip) => ip !== first),
      'the new pods, each with its first call',
    );
    assert.equal(mesh.firstCall?.reached, 4, `every new pod got a call from the mesh client\n${output}`);
    assert.equal(client(up, 'client-grpc (L4)').firstCall, undefined, 'first calls are figures of the L7 clients only');
    const resolver = client(up, 'client-grpc (k8s)');
    assert.deepEqual(
      Object.keys(resolver.counts).sort(),
      five,
      'client-grpc with the k8s:/// resolver reaches all five pods',
    );
    assert.equal(resolver.firstCall?.reached, 4, `every new pod got a call from the k8s:/// client\n${output}`);
    assert.deepEqual(
      up.clients.map((c) => c.expect),
      ['spread', 'stuck', 'every-pod', 'every-pod'],
    );

    // Scale-down: endpoints are removed before the pods stop, and the pods drain: nothing is lost.
    // (Calls already in flight on a pod being removed still complete there, so its IP may appear too.)
    for (const c of down.clients) assert.equal(c.errors, 0, `${c.label} lost calls during the scale-down\n${output}`);
    for (const label of ['client-grpc (mesh)', 'client-grpc (k8s)']) {
      const survivors = Object.keys(client(down, label).counts);
      assert.ok(
        survivors.includes(first) && survivors.includes(`${net}9`),
        `${label} spread over the remaining pods\n${output}`,
      );
    }
  });

  it('Ctrl-C in the middle of a run stops it: exit 130, pods stopped', async () => {
    const lab = start('lab', ['--phase-seconds', '30', ...ephemeral]);
    await lab.waitFor(/first replies from/, 30_000);
    lab.child.kill('SIGINT');
    assert.equal(await exitWithin(lab, 20_000), 130);
    assert.ok(lab.lines.some((line) => /pod 127\.\d+\.\d+\.8 terminating/.test(line)));
    assert.ok(lab.lines.some((line) => /interrupted; everything it started has stopped/.test(line)));
  });

  it('bad arguments: usage and exit 2', async () => {
    for (const args of [
      ['--phase-seconds', '0'],
      ['--interval', 'x'],
      ['up', '--http-node-port', '70000'],
      ['scale'],
      ['scale', 'many'],
      ['scale', '99'],
      ['bogus'],
    ]) {
      const { code, output } = await run('lab', args);
      assert.equal(code, 2, `lab ${args.join(' ')}:\n${output}`);
      assert.match(output, /Usage|Options:|Commands:/, `lab ${args.join(' ')}`);
    }
  });

  it('a taken port: one clear line naming it, exit 1', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as { port: number };
    const { code, lines } = await run('lab', [
      '--http-node-port',
      String(port),
      '--grpc-node-port',
      '0',
      '--mesh-port',
      '0',
    ]);
    squatter.close();
    assert.equal(code, 1);
    const printed = lines.filter((l) => l.trim() !== '');
    assert.equal(printed.length, 1, printed.join('\n'));
    assert.match(
      printed[0] ?? '',
      new RegExp(`port ${port} \\(the Service's HTTP NodePort\\) is already in use.*--http-node-port`),
    );
  });

  it('lab up on a taken API port: one clear line naming it, exit 1', async () => {
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as { port: number };
    const { code, lines } = await run('lab', ['up', ...ephemeral, '--dashboard-port', '0', '--api-port', String(port)]);
    squatter.close();
    assert.equal(code, 1);
    const printed = lines.filter((l) => l.trim() !== '');
    assert.equal(printed.length, 1, printed.join('\n'));
    assert.match(printed[0] ?? '', new RegExp(`port ${port} \\(the Kubernetes API\\) is already in use.*--api-port`));
  });

  it('lab scale with no lab running: one clear line, exit 1', async () => {
    const { code, output } = await run('lab', ['scale', '3', '--api-port', String(await freePort())]);
    assert.equal(code, 1);
    assert.match(output, /no lab is running on 127\.0\.0\.1:\d+/);
  });
});

/** A pod process's environment, as the kubelet (the lab) gave it. */
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

describe('lab pods get what a kubelet gives', () => {
  it("with service links on (Kubernetes' default), pods start under ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT, … and get the downward-API values", async () => {
    const dir = mkdtempSync(`${tmpdir()}/grpc-lb-manifest-`);
    const manifest = `${dir}/server.yml`;
    writeFileSync(
      manifest,
      readFileSync(`${root}k8s/server.yml`, 'utf8').replace(/^\s*enableServiceLinks: false\n/m, ''),
    );
    const { lab, apiPort, ip } = await labUp(['--no-mesh-client', '--replicas', '2', '--manifest', manifest]);
    try {
      await waitUntil('2 pods are ready', async () => (await status(apiPort)).pods.filter((p) => p.ready).length === 2);
      const [pod] = (await status(apiPort)).pods;
      const env = environOf(pod?.pid as number);
      assert.equal(env.POD_IP, ip(8));
      assert.equal(env.POD_NAME, pod?.name);
      assert.equal(env.ADDR_SERVER_SERVICE_HOST, env.ADDR_SERVER_PORT_80_TCP_ADDR);
      assert.match(env.ADDR_SERVER_PORT ?? '', /^tcp:\/\/[\d.]+:80$/);
      assert.equal(env.ADDR_SERVER_SERVICE_PORT_GRPC, '30051');
      assert.ok(env.KUBERNETES_SERVICE_HOST, "the API server's service variables are always there");
      assert.equal(env.ADDR_SERVER_GRACE_MS, '20000', "the manifest's env");
    } finally {
      lab.child.kill('SIGTERM');
      await exitWithin(lab, 30_000);
    }
  });

  it("with the kit's manifest (enableServiceLinks: false), no service links but the API server's", async () => {
    const { lab, apiPort, ip } = await labUp(['--no-mesh-client']);
    try {
      await waitUntil('the pod is ready', async () => (await status(apiPort)).pods.some((p) => p.ready));
      const env = environOf((await status(apiPort)).pods[0]?.pid as number);
      assert.equal(env.ADDR_SERVER_SERVICE_HOST, undefined);
      assert.ok(env.KUBERNETES_SERVICE_HOST);
      assert.equal(env.POD_IP, ip(8));
    } finally {
      lab.child.kill('SIGTERM');
      await exitWithin(lab, 30_000);
    }
  });

  it('a manifest the lab cannot use: one line naming the field, exit 2', async () => {
    const dir = mkdtempSync(`${tmpdir()}/grpc-lb-manifest-`);
    writeFileSync(
      `${dir}/bad.yml`,
      readFileSync(`${root}k8s/server.yml`, 'utf8').replace('value: "8080"', 'value: 8080'),
    );
    const { code, lines } = await run('lab', ['up', ...ephemeral, '--manifest', `${dir}/bad.yml`]);
    assert.equal(code, 2);
    assert.deepEqual(
      lines.filter((l) => l.trim() !== ''),
      [`lab: ${dir}/bad.yml: containers[0].env[2].value must be a string (quote numbers)`],
    );
  });
});

describe('lab up', () => {
  it("lab scale 5 from another process: the post's client commands see the new pods (keep-alive HTTP does not); Ctrl-C leaves nothing running", async () => {
    const { lab, apiPort, http, grpc } = await labUp();
    const scaled = await run('lab', ['scale', '5', '--api-port', String(apiPort)]);
    assert.equal(scaled.code, 0, scaled.output);
    await waitUntil('5 pods are ready', async () => (await status(apiPort)).pods.filter((p) => p.ready).length === 5);

    const httpClient = await run('client-http', [`http://127.0.0.1:${http}/addr`, '--count', '40', '--interval', '10']);
    assert.equal(httpClient.code, 0);
    const pods = new Set(replies(httpClient.lines).map(([, ip]) => ip));
    assert.ok(pods.size >= 4, `client-http saw ${[...pods].join(', ')}`);
    // The post's footnote: with keep-alive, HTTP/1.1 sticks to one pod just like gRPC.
    const keepalive = await run('client-http', [
      `http://127.0.0.1:${http}/addr`,
      '--keepalive',
      '--count',
      '20',
      '--interval',
      '10',
    ]);
    assert.equal(keepalive.code, 0);
    assert.equal(
      new Set(replies(keepalive.lines).map(([, ip]) => ip)).size,
      1,
      'client-http --keepalive stays on one pod',
    );
    const grpcClient = await run('client-grpc', [`localhost:${grpc}`, '--count', '10', '--interval', '10']);
    assert.equal(grpcClient.code, 0);
    assert.equal(
      new Set(replies(grpcClient.lines).map(([, ip]) => ip)).size,
      1,
      'gRPC through the Service stays on one pod',
    );

    const pids = (await status(apiPort)).pods.map((p) => p.pid);
    lab.child.kill('SIGINT');
    assert.equal(await exitWithin(lab, 20_000), 0);
    await waitUntil('every pod process is gone', async () => pids.every((pid) => !alive(pid)), 5000);
  });

  it('a pod killed with SIGKILL: the clients print errors and recover, the lab replaces the pod', async () => {
    const { lab, apiPort, grpc, mesh, ip } = await labUp(['--no-mesh-client']);
    await waitUntil('the first pod is ready', async () => (await status(apiPort)).pods.some((p) => p.ready));
    const viaService = start('client-grpc', [
      `localhost:${grpc}`,
      '--count',
      '30',
      '--interval',
      '100',
      '--deadline-ms',
      '1000',
    ]);
    const inMesh = start('client-grpc', [
      `localhost:${mesh}`,
      '--count',
      '30',
      '--interval',
      '100',
      '--deadline-ms',
      '1000',
    ]);
    const line = (n: number) => new RegExp(`^#\\d+: ${ip(n).replaceAll('.', '\\.')}$`);
    await Promise.all([viaService.waitFor(line(8)), inMesh.waitFor(line(8))]);

    const [pod] = (await status(apiPort)).pods;
    assert.equal(pod?.ip, ip(8));
    process.kill(pod.pid, 'SIGKILL');

    for (const proc of [viaService, inMesh]) {
      await proc.waitFor(/^Error: UNAVAILABLE/, 15_000);
      await proc.waitFor(line(9), 20_000);
      assert.equal(await exitWithin(proc, 20_000), 0);
      assert.deepEqual(
        replies(proc.lines).map(([n]) => n),
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
    }
    const after = await status(apiPort);
    assert.deepEqual(
      after.pods.map((p) => [p.ip, p.ready]),
      [[ip(9), true]],
    );
    lab.child.kill('SIGTERM');
    assert.equal(await exitWithin(lab, 20_000), 0);
  });

  it('a pod that hangs (SIGSTOP): client-grpc through the Service gets replies from another pod while it is still stopped', async () => {
    const { lab, apiPort, grpc } = await labUp(['--no-mesh-client', '--replicas', '2']);
    await waitUntil('2 pods are ready', async () => (await status(apiPort)).pods.filter((p) => p.ready).length === 2);
    const client = start('client-grpc', [`localhost:${grpc}`, '--interval', '100', '--deadline-ms', '1000']);
    let stopped: { ip: string; pid: number } | undefined;
    try {
      const [, pinned] = await client.waitFor(/^#3: (\S+)$/);
      stopped = (await status(apiPort)).pods.find((p) => p.ip === pinned);
      assert.ok(stopped, `no pod ${pinned}`);
      process.kill(stopped.pid, 'SIGSTOP');
      const seen = client.lines.length;
      const other = (await status(apiPort)).pods.find((p) => p.ip !== pinned)?.ip as string;
      // Bounded generously: keepalive finds the silence in 15 s; a reconnect that lands on the hung pod
      // before readiness drops it waits out client-grpc's 20 s connect timeout before it tries again.
      await client.waitFor(new RegExp(`^#\\d+: ${other.replaceAll('.', '\\.')}$`), 90_000);
      assert.ok(
        client.lines.slice(seen).some((line) => line.startsWith('Error: ')),
        'calls to the hung pod failed first',
      );
      assert.ok(alive(stopped.pid), 'the first pod is still there, stopped');
    } finally {
      if (stopped) process.kill(stopped.pid, 'SIGCONT');
      await client.stop();
      lab.child.kill('SIGTERM');
      await exitWithin(lab, 30_000);
    }
  });

  it('refuses a scale from another origin or for another host: a web page cannot scale the lab', async () => {
    const { lab, apiPort } = await labUp(['--no-mesh-client']);
    try {
      const path = '/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server/scale';
      const scale = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            {
              host: '127.0.0.1',
              port: apiPort,
              method: 'PATCH',
              path,
              headers: { 'content-type': 'application/merge-patch+json', ...headers },
            },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end(JSON.stringify({ spec: { replicas: 3 } }));
        });
      assert.equal(await scale({ origin: 'http://evil.example' }), 403);
      assert.equal(await scale({ host: 'evil.example' }), 403);
      assert.equal(await scale({ host: `attacker.example:${apiPort}` }), 403);
      assert.equal((await status(apiPort)).replicas, 1, 'nothing changed');
      assert.equal(await scale({ origin: `http://127.0.0.1:${apiPort}` }), 200, "the lab's own origin may");
    } finally {
      lab.child.kill('SIGTERM');
      await exitWithin(lab, 30_000);
    }
  });
});
