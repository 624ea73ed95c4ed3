// The lab: the post's experiment on one machine, run as a user runs it (out/lab, out/lab up, out/lab scale).
// Assertions are on what a user sees — the report and its JSON, the pods, the clients' lines — never on
// timings. Each lab gets a pod network of its own (support/pod-network.ts).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import type { reportJson } from '../../src/lab/run/report.js';
import { waitUntil } from '../support/wait.js';
import { labUp } from './support/lab-up.js';
import { podNetwork } from './support/pod-network.js';
import { environOf, interruptMidRun, podProcesses, podsOf, readyIps } from './support/pods.js';
import { alive, exitWithin, freePort, podsIn, printed, replies, root, run, start } from './support/processes.js';

type Report = ReturnType<typeof reportJson>;
type Phase = Report['phases'][number];

const EPHEMERAL = ['--http-node-port', '0', '--grpc-node-port', '0', '--mesh-port', '0', '--api-port', '0'];

const client = (phase: Phase, label: string) => {
  const found = phase.clients.find((c) => c.label === label);
  assert.ok(found, `no ${label} in ${phase.name}`);
  return found;
};
const podsOfClient = (phase: Phase, label: string) => Object.keys(client(phase, label).counts).sort();

describe('lab (the default run)', () => {
  it("sees what the post saw: HTTP spreads, gRPC via the Service sticks, gRPC in the mesh and on k8s:/// reach every pod, counted from the rollout's end; exit 0", async () => {
    const net = podNetwork('lab', 0);
    const json = `${mkdtempSync(`${tmpdir()}/grpc-lb-lab-`)}/report.json`;
    const { code, output } = await run(
      'lab',
      ['--phase-seconds', '4', '--interval', '100', ...EPHEMERAL, '--pod-cidr', net.cidr, '--json', json],
      90_000,
    );
    assert.equal(code, 0, output);
    assert.match(output, /^ {2}✓ client-grpc \(L4\): stuck on .*, as in the post$/m);
    assert.match(output, /^The lab saw what the post saw\.$/m);
    assert.doesNotMatch(output, /\bundefined\b/, 'a progress line said "undefined"');
    const report = output.slice(output.indexOf('Phase 1/3'));
    const progress = /^ *\d+\.\ds {2}/; // stderr's progress lines, which may arrive among the report's
    for (const line of report.split('\n').filter((l) => !progress.test(l)))
      assert.ok(line.length <= 80, `the report is wider than 80 columns: ${line}`);

    const { ok, phases } = JSON.parse(readFileSync(json, 'utf8')) as Report;
    assert.equal(ok, true);
    assert.deepEqual(
      phases.map((p) => [p.name, p.replicas]),
      [
        ['before scaling', 1],
        ['scaled up', 5],
        ['scaled down', 2],
      ],
    );
    const [before, up, down] = phases as [Phase, Phase, Phase];
    const first = net.ip(8);
    const five = [8, 9, 10, 11, 12].map(net.ip).sort();
    for (const c of before.clients) assert.deepEqual(Object.keys(c.counts), [first], `${c.label} before scaling`);

    // Counting began once all five pods were ready: every one of them is in the phase.
    assert.equal(typeof up.rolloutMs, 'number');
    assert.deepEqual([...up.pods].sort(), five);
    assert.deepEqual(
      up.clients.map((c) => [c.label, c.expect]),
      [
        ['client-http (L4)', 'spread'],
        ['client-grpc (L4)', 'stuck'],
        ['client-grpc (mesh)', 'every-pod'],
        ['client-grpc (k8s)', 'every-pod'],
      ],
    );
    assert.ok(podsOfClient(up, 'client-http (L4)').length >= 2, 'HTTP through the Service reaches new pods');
    assert.deepEqual(podsOfClient(up, 'client-grpc (L4)'), [first], 'gRPC through the Service stays on the first pod');
    for (const label of ['client-grpc (mesh)', 'client-grpc (k8s)']) {
      assert.deepEqual(podsOfClient(up, label), five, `${label} reaches all five pods`);
      const firstCall = client(up, label).firstCall;
      assert.deepEqual(Object.keys(firstCall?.pods ?? {}).sort(), five.filter((ip) => ip !== first).sort());
      assert.equal(firstCall?.reached, 4, `every new pod got a call from ${label}`);
    }
    assert.equal(client(up, 'client-grpc (L4)').firstCall, undefined, 'first calls are figures of the L7 clients only');

    // Scale-down: endpoints are removed before the pods stop, and the pods drain: nothing is lost.
    // (Calls already in flight on a pod being removed still complete there, so its IP may appear too.)
    // Which pods stay is Kubernetes' ranking (controller.ActivePodsWithRanks): those Ready the shortest go
    // first, so the first pod stays; of the four that came together, the one whose Ready came first (to
    // the second, as lastTransitionTime has it) stays with it — on a busy machine, any of them.
    const survivors = [...down.pods].sort();
    assert.equal(survivors.length, 2, `two pods left: ${survivors.join(', ')}`);
    assert.ok(survivors.includes(first), `the pod Ready the longest, ${first}, stays: ${survivors.join(', ')}`);
    for (const c of down.clients) assert.equal(c.errors, 0, `${c.label} lost calls during the scale-down`);
    for (const label of ['client-grpc (mesh)', 'client-grpc (k8s)']) {
      const reached = podsOfClient(down, label);
      assert.ok(
        survivors.every((ip) => reached.includes(ip)),
        `${label} spread over what is left (${survivors.join(', ')}): ${reached.join(', ')}`,
      );
    }
    assert.deepEqual(podProcesses(net), [], 'a pod process outlived the run');
  });

  it('Ctrl-C in the middle of a run stops it: exit 130, and no pod process is left', async () => {
    const net = podNetwork('lab', 1);
    const lab = start('lab', ['--phase-seconds', '60', ...EPHEMERAL, '--pod-cidr', net.cidr]);
    try {
      await interruptMidRun(lab, net);
    } finally {
      await lab.stop('SIGKILL');
    }
  });

  it('bad arguments: one line saying what is wrong, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--phase-seconds', '0'], /--phase-seconds must be a whole number of seconds from 1 to 600, got "0"/],
      [['--interval', 'x'], /--interval must be .* got "x"/],
      [['up', '--http-node-port', '70000'], /--http-node-port must be a port number from 0 to 65535, got "70000"/],
      [['--pod-cidr', '10.0.0.0/24'], /--pod-cidr must be a \/24 inside 127\.0\.0\.0\/8/],
      [['scale'], /Not enough non-option arguments/],
      [['scale', 'many'], /replicas must be a whole number of replicas from 0 to 20, got "many"/],
      [['scale', '99'], /replicas must be a whole number of replicas from 0 to 20, got "99"/],
      [['bogus'], /bogus/],
    ];
    for (const [args, message] of cases) {
      const { code, lines } = await run('lab', args);
      assert.equal(code, 2, `lab ${args.join(' ')}:\n${lines.join('\n')}`);
      const said = printed(lines);
      assert.equal(said.length, 1, `lab ${args.join(' ')}: ${said.length} lines:\n${said.join('\n')}`);
      assert.match(said[0] ?? '', message);
      assert.match(said[0] ?? '', /\(see lab --help\)$/);
    }
  });

  it('a taken port: one line naming it and the flag that moves it, exit 1, nothing left running', async () => {
    const net = podNetwork('lab', 2);
    const squatter = createServer().listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const { port } = squatter.address() as { port: number };
    try {
      for (const [flag, args] of [
        ['--http-node-port', ['--http-node-port', String(port), '--grpc-node-port', '0', '--mesh-port', '0']],
        ['--api-port', ['up', ...EPHEMERAL.slice(0, 6), '--dashboard-port', '0', '--api-port', String(port)]],
        ['--dashboard-port', ['up', ...EPHEMERAL, '--dashboard-port', String(port)]],
      ] as const) {
        const { code, lines } = await run('lab', [...args, '--pod-cidr', net.cidr]);
        assert.equal(code, 1, lines.join('\n'));
        const said = printed(lines);
        assert.equal(said.length, 1, `${flag}: ${said.length} lines:\n${said.join('\n')}`);
        assert.match(
          said[0] ?? '',
          new RegExp(`^lab: port ${port} \\(.+\\) is already in use .*Change it with ${flag}$`),
        );
        assert.deepEqual(podProcesses(net), [], `${flag}: a pod outlived the failed start`);
      }
    } finally {
      squatter.close();
    }
  });

  it('lab scale with no lab running: one clear line, exit 1', async () => {
    const port = await freePort();
    const { code, lines } = await run('lab', ['scale', '3', '--api-port', String(port)]);
    assert.equal(code, 1);
    assert.deepEqual(printed(lines), [
      `lab scale: no lab is running on 127.0.0.1:${port} — start one with \`out/lab up\``,
    ]);
  });
});

describe('lab pods get what a kubelet gives', () => {
  it("with service links on (Kubernetes' default), pods start under ADDR_SERVER_SERVICE_HOST, ADDR_SERVER_PORT, … and get the downward-API values", async () => {
    const manifest = `${mkdtempSync(`${tmpdir()}/grpc-lb-manifest-`)}/server.yml`;
    writeFileSync(
      manifest,
      readFileSync(`${root}k8s/server.yml`, 'utf8').replace(/^\s*enableServiceLinks: false\n/m, ''),
    );
    const net = podNetwork('lab', 3);
    const lab = await labUp(net, [
      '--no-service-clients',
      '--no-k8s-client',
      '--no-mesh-client',
      '--manifest',
      manifest,
    ]);
    try {
      await waitUntil('the pod is ready', async () => (await readyIps(lab.api)).length === 1);
      const [pod] = (await podsOf(lab.api)).pods;
      assert.ok(pod);
      const env = environOf(pod.pid) ?? {};
      assert.equal(env.POD_IP, net.ip(8));
      assert.equal(env.POD_NAME, pod.name);
      assert.equal(env.ADDR_SERVER_SERVICE_HOST, env.ADDR_SERVER_PORT_80_TCP_ADDR);
      assert.match(env.ADDR_SERVER_PORT ?? '', /^tcp:\/\/[\d.]+:80$/);
      assert.equal(env.ADDR_SERVER_SERVICE_PORT_GRPC, '30051');
      assert.ok(env.KUBERNETES_SERVICE_HOST, "the API server's service variables are always there");
      assert.equal(env.ADDR_SERVER_GRACE_MS, '20000', "the manifest's env");
    } finally {
      assert.equal(await lab.stop(), 0);
    }
  });

  it("with the kit's manifest (enableServiceLinks: false), no service links but the API server's", async () => {
    const net = podNetwork('lab', 4);
    const lab = await labUp(net, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client']);
    try {
      await waitUntil('the pod is ready', async () => (await readyIps(lab.api)).length === 1);
      const env = environOf((await podsOf(lab.api)).pods[0]?.pid ?? 0) ?? {};
      assert.equal(env.ADDR_SERVER_SERVICE_HOST, undefined);
      assert.ok(env.KUBERNETES_SERVICE_HOST);
      assert.equal(env.POD_IP, net.ip(8));
    } finally {
      assert.equal(await lab.stop(), 0);
    }
  });

  it('a manifest the lab cannot run: one line naming the field, exit 2', async () => {
    const bad = `${mkdtempSync(`${tmpdir()}/grpc-lb-manifest-`)}/bad.yml`;
    writeFileSync(bad, readFileSync(`${root}k8s/server.yml`, 'utf8').replace('value: "8080"', 'value: 8080'));
    for (const command of [[], ['up'], ['compare']]) {
      const { code, lines } = await run('lab', [
        ...command,
        ...(command[0] === 'compare' ? [] : EPHEMERAL),
        '--manifest',
        bad,
      ]);
      assert.equal(code, 2, lines.join('\n'));
      const said = printed(lines);
      assert.equal(said.length, 1, said.join('\n'));
      assert.match(
        said[0] ?? '',
        new RegExp(
          `^lab: .*${bad}: Deployment addr-server: spec\\.template\\.spec\\.containers\\[0\\]\\.env\\[2\\]\\.value must be a string \\(quote numbers\\)`,
        ),
      );
    }
  });
});

describe('lab up', () => {
  it("lab scale 5 from another process: the post's client commands see the new pods (keep-alive HTTP does not); Ctrl-C leaves nothing running", async () => {
    const net = podNetwork('lab', 5);
    const lab = await labUp(net, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client']);
    try {
      const scaled = await run('lab', ['scale', '5', '--api-port', String(lab.api)]);
      assert.equal(scaled.code, 0, scaled.output);
      await waitUntil('5 pods are ready', async () => (await readyIps(lab.api)).length === 5);

      const http = await run('client-http', [`http://127.0.0.1:${lab.http}/addr`, '--count', '40', '--interval', '10']);
      assert.equal(http.code, 0);
      assert.ok(podsIn(http.lines).size >= 4, `client-http saw ${[...podsIn(http.lines)].join(', ')}`);
      // The post's footnote: with keep-alive, HTTP/1.1 sticks to one pod just like gRPC.
      const keepalive = await run('client-http', [
        `http://127.0.0.1:${lab.http}/addr`,
        '--keepalive',
        '--count',
        '20',
        '--interval',
        '10',
      ]);
      assert.equal(keepalive.code, 0);
      assert.equal(podsIn(keepalive.lines).size, 1, 'client-http --keepalive stays on one pod');
      const grpc = await run('client-grpc', [`localhost:${lab.grpc}`, '--count', '10', '--interval', '10']);
      assert.equal(grpc.code, 0);
      assert.equal(podsIn(grpc.lines).size, 1, 'gRPC through the Service stays on one pod');
      const mesh = await run('client-grpc', [`localhost:${lab.mesh}`, '--count', '10', '--interval', '10']);
      assert.equal(mesh.code, 0);
      assert.equal(podsIn(mesh.lines).size, 5, 'gRPC through the mesh reaches every pod');

      const pids = (await podsOf(lab.api)).pods.map((p) => p.pid);
      assert.equal(await lab.stop('SIGINT'), 0);
      await waitUntil('every pod process is gone', () => pids.every((pid) => !alive(pid)), 5000);
      assert.deepEqual(podProcesses(net), []);
    } finally {
      await lab.stop('SIGKILL');
    }
  });

  it("a pod's container killed with SIGKILL: the clients print errors, the kubelet restarts the container, the clients recover on the same pod", async () => {
    const net = podNetwork('lab', 6);
    const lab = await labUp(net, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client']);
    const args = ['--count', '30', '--interval', '100', '--deadline-ms', '1000'];
    const viaService = start('client-grpc', [`localhost:${lab.grpc}`, ...args]);
    const inMesh = start('client-grpc', [`localhost:${lab.mesh}`, ...args]);
    const clients = [viaService, inMesh];
    try {
      await waitUntil('both clients have a reply', () => clients.every((c) => replies(c.lines).length > 0), 30_000);
      const [pod] = (await podsOf(lab.api)).pods;
      assert.equal(pod?.ip, net.ip(8));
      process.kill(pod.pid, 'SIGKILL');

      for (const proc of clients) {
        assert.equal(await exitWithin(proc, 60_000), 0, proc.lines.join('\n'));
        assert.deepEqual(
          replies(proc.lines).map(([n]) => n),
          Array.from({ length: 30 }, (_, i) => i + 1),
          'numbering resumes after the errors',
        );
        assert.deepEqual([...podsIn(proc.lines)], [net.ip(8)], 'the same pod, its container restarted');
      }
      // Its connection reset, the Service's client fails until the container is back; the mesh holds its
      // calls while no endpoint is ready (as Linkerd does, up to its fail-fast timeout).
      assert.ok(
        viaService.lines.some((line) => line.startsWith('Error: UNAVAILABLE')),
        'calls through the Service failed while the container was down',
      );
      const after = (await podsOf(lab.api)).pods;
      assert.deepEqual(
        after.map((p) => [p.name, p.ip, p.ready, p.restarts]),
        [[pod.name, net.ip(8), true, 1]],
      );
      assert.notEqual(after[0]?.pid, pod.pid, 'a new process');
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
      assert.equal(await lab.stop(), 0);
    }
  });

  it('a pod that hangs (SIGSTOP): client-grpc through the Service gets replies from another pod while it is still stopped', async () => {
    const net = podNetwork('lab', 7);
    const lab = await labUp(net, ['--no-service-clients', '--no-k8s-client', '--no-mesh-client', '--replicas', '2']);
    const client = start('client-grpc', [`localhost:${lab.grpc}`, '--interval', '100', '--deadline-ms', '1000']);
    let stopped: { ip: string; pid: number } | undefined;
    try {
      await waitUntil('2 pods are ready', async () => (await readyIps(lab.api)).length === 2, 30_000);
      const [, pinned] = await client.waitFor(/^#3: (\S+)$/, 30_000);
      stopped = (await podsOf(lab.api)).pods.find((p) => p.ip === pinned);
      assert.ok(stopped, `no pod ${pinned}`);
      process.kill(stopped.pid, 'SIGSTOP');
      const seen = client.lines.length;
      const other = (await podsOf(lab.api)).pods.find((p) => p.ip !== pinned)?.ip ?? '';
      // Bounded generously: keepalive finds the silence in 15 s; a reconnect that lands on the hung pod
      // before readiness drops it waits out client-grpc's connect timeout before it tries again.
      await waitUntil(
        `a reply from ${other}`,
        () => replies(client.lines.slice(seen)).some(([, ip]) => ip === other),
        90_000,
        100,
      );
      assert.ok(
        client.lines.slice(seen).some((line) => line.startsWith('Error: ')),
        'calls to the hung pod failed first',
      );
      assert.ok(alive(stopped.pid), 'the first pod is still there, stopped');
    } finally {
      if (stopped) process.kill(stopped.pid, 'SIGCONT');
      await client.stop();
      await lab.stop();
    }
  });
});
