// Every strategy as manifests (k8s/strategies/NAME/, k8s/faults/, k8s/ns-compare.yml) and the Skaffold
// profiles that deploy them: valid against their schemas, each client calling where its strategy says with
// the options a driver needs (--output jsonl --rate 50, its label), every name it calls served by an
// object its profile deploys, the hardening of k8s/server.yml, and the variants of the server identical to
// it but for what makes them variants.
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Gateway, GatewayClass, GRPCRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { parseAllDocuments } from 'yaml';
import { validateBootstrapConfig } from '@grpc/grpc-js-xds/build/src/xds-bootstrap.js';
import { parseClientGrpcArgs } from '../src/clients/client-grpc-args.js';
import { parseControlPlaneArgs } from '../src/xds/options.js';
import { root } from './support/root.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(`${root}${file}`, 'utf8')).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Doc;
  });
const expand = (pattern: string) => globSync(pattern, { cwd: root }).sort();

const strategyFiles = expand('k8s/strategies/*/*.yml');
const faultFiles = expand('k8s/faults/*.yml');
const docs = [...strategyFiles, ...faultFiles, 'k8s/ns-compare.yml'].flatMap((file) =>
  load(file).map((doc) => ({ file, doc })),
);
const server = load('k8s/server.yml');
const serverDeployment = server.find((doc) => doc.kind === 'Deployment') as Doc;
const plainClient = load('k8s/client-grpc.yml')[0] as Doc;
const skaffold = load('skaffold.yaml')[0] as Doc;

interface Strategy {
  name: string;
  /** its folder and Skaffold profile, and its label value: the name with "+" written "-" */
  label: string;
  target: string;
  lb?: 'round_robin';
  mesh?: boolean;
  /** the folders its profile deploys besides its own */
  needs?: string[];
}

// The names, targets and labels the lab and a cluster driver go by (issue 18).
const STRATEGIES: Strategy[] = [
  { name: 'l4', label: 'l4', target: 'addr-server:30051' },
  { name: 'l4+age', label: 'l4-age', target: 'addr-server-aged:30051', needs: ['aged'] },
  { name: 'dns', label: 'dns', target: 'dns:///addr-server-headless:30051', lb: 'round_robin' },
  {
    name: 'dns+age',
    label: 'dns-age',
    target: 'dns:///addr-server-aged-headless:30051',
    lb: 'round_robin',
    needs: ['aged'],
  },
  { name: 'k8s', label: 'k8s', target: 'k8s:///addr-server:grpc' },
  { name: 'xds', label: 'xds', target: 'xds:///addr-server' },
  { name: 'edge', label: 'edge', target: 'addr-edge:30051' },
  { name: 'mesh', label: 'mesh', target: 'addr-server:30051', mesh: true },
  { name: 'mesh-accrual', label: 'mesh-accrual', target: 'addr-server-accrual:30051', mesh: true },
];

const profile = (name: string) => {
  const found = skaffold.profiles.find((p: Doc) => p.name === name);
  assert.ok(found, `no Skaffold profile ${name}`);
  return found as Doc;
};
/** The objects a profile deploys: its rawYaml globs, expanded as Skaffold does. */
const deployedBy = (name: string): Doc[] =>
  (profile(name).manifests.rawYaml as string[]).flatMap((pattern) => {
    const files = expand(pattern);
    assert.ok(files.length > 0, `profile ${name}: ${pattern} matches no file`);
    return files.flatMap(load);
  });
const named = (objects: Doc[], kind: string, name: string) =>
  objects.find((doc) => doc.kind === kind && doc.metadata?.name === name);
const envOf = (container: Doc): Record<string, string> =>
  Object.fromEntries((container.env ?? []).filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, e.value]));
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/** EnvoyProxy (gateway.envoyproxy.io/v1alpha1) has no schema package: its fields checked by hand. */
function checkEnvoyProxy(doc: Doc): void {
  // api/v1alpha1/envoyproxy_types.go and shared_types.go in envoyproxy/gateway v1.8.3: provider.type is the
  // enum ProviderType (only "Kubernetes" is defined); envoyService.type is ClusterIP, LoadBalancer or
  // NodePort; envoyService.name and envoyDeployment.replicas are a string and an int32.
  const provider = doc.spec?.provider;
  assert.equal(provider?.type, 'Kubernetes', 'spec.provider.type');
  const { envoyService, envoyDeployment, ...rest } = provider.kubernetes ?? {};
  assert.deepEqual(Object.keys(rest), [], 'spec.provider.kubernetes: only envoyService and envoyDeployment');
  assert.match(envoyService?.name ?? '', /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'envoyService.name is a Service name');
  assert.ok(['ClusterIP', 'LoadBalancer', 'NodePort'].includes(envoyService?.type), 'envoyService.type');
  assert.ok(Number.isInteger(envoyDeployment?.replicas) && envoyDeployment.replicas >= 0, 'envoyDeployment.replicas');
}

const MODELS: Record<string, (doc: Doc) => void> = {
  'apps/v1/Deployment': (doc) => new Deployment(doc).validate(),
  'v1/Service': (doc) => new Service(doc).validate(),
  'v1/ServiceAccount': (doc) => new ServiceAccount(doc).validate(),
  'v1/Namespace': (doc) => new Namespace(doc).validate(),
  'rbac.authorization.k8s.io/v1/Role': (doc) => new Role(doc).validate(),
  'rbac.authorization.k8s.io/v1/RoleBinding': (doc) => new RoleBinding(doc as RoleBinding).validate(),
  // The Gateway API's own types, as @kubernetes-models/gateway-api generates them.
  'gateway.networking.k8s.io/v1/GatewayClass': (doc) => new GatewayClass(doc as GatewayClass).validate(),
  'gateway.networking.k8s.io/v1/Gateway': (doc) => new Gateway(doc as Gateway).validate(),
  'gateway.networking.k8s.io/v1/GRPCRoute': (doc) => new GRPCRoute(doc as GRPCRoute).validate(),
  'gateway.envoyproxy.io/v1alpha1/EnvoyProxy': checkEnvoyProxy,
};

describe('every strategy as manifests: schemas', () => {
  for (const { file, doc } of docs) {
    it(`${file}: ${doc.kind} ${doc.metadata?.name} is valid against its schema`, () => {
      const validate = MODELS[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(validate, `unexpected ${doc.apiVersion} ${doc.kind}`);
      validate(doc);
      // Cluster-scoped objects aside, the namespace is the one -n names.
      assert.equal(doc.metadata.namespace, undefined);
    });
  }

  it('a broken object fails its schema check (the checks can fail)', () => {
    const route = structuredClone(docs.find(({ doc }) => doc.kind === 'GRPCRoute')?.doc) as Doc;
    route.spec.rules[0].backendRefs[0].port = 'grpc';
    assert.throws(() => new GRPCRoute(route as GRPCRoute).validate(), /port/);
    const gateway = structuredClone(docs.find(({ doc }) => doc.kind === 'Gateway')?.doc) as Doc;
    delete gateway.spec.listeners;
    assert.throws(() => new Gateway(gateway as Gateway).validate(), /listeners/);
    const proxy = structuredClone(docs.find(({ doc }) => doc.kind === 'EnvoyProxy')?.doc) as Doc;
    proxy.spec.provider.kubernetes.envoyService.type = 'External';
    assert.throws(() => checkEnvoyProxy(proxy), /envoyService.type/);
  });
});

describe('every strategy as manifests: the clients', () => {
  const clients = docs.filter(({ doc }) => doc.kind === 'Deployment' && 'grpc-lb.io/strategy' in doc.metadata.labels);

  it('one client Deployment per strategy, each in its own folder, and no other', () => {
    assert.deepEqual(
      clients.map(({ file, doc }) => `${file} ${doc.metadata.name}`).sort(),
      STRATEGIES.map(({ label }) => `k8s/strategies/${label}/client.yml addr-client-${label}`).sort(),
    );
  });

  for (const strategy of STRATEGIES) {
    const { name, label, target, lb, mesh = false } = strategy;
    const deployment = () => {
      const found = clients.find(({ doc }) => doc.metadata.name === `addr-client-${label}`)?.doc;
      assert.ok(found, `no Deployment addr-client-${label}`);
      return found;
    };

    it(`${name}: addr-client-${label}, labelled with the strategy, runs client-grpc on ${target}`, () => {
      const doc = deployment();
      assert.equal(label, name.replaceAll('+', '-'));
      assert.equal(doc.metadata.labels['grpc-lb.io/strategy'], label);
      assert.equal(doc.metadata.annotations['grpc-lb.io/strategy'], name);
      const template = doc.spec.template;
      assert.equal(template.metadata.labels['grpc-lb.io/strategy'], label, 'the pods carry it too (kubectl logs -l)');
      assert.ok(selects(doc.spec.selector.matchLabels, template.metadata.labels));
      assert.equal(template.spec.containers.length, 1);
      const [container] = template.spec.containers;
      assert.equal(container.name, 'addr-client-grpc');
      assert.equal(container.image, 'addr-client-grpc');
      assert.deepEqual(container.args, [target, ...(lb ? ['--lb', lb] : []), '--output', 'jsonl', '--rate', '50']);
    });

    it(`${name}: client-grpc's own parser takes its args and env: jsonl records, 50 calls a second`, () => {
      const [container] = deployment().spec.template.spec.containers;
      const parsed = parseClientGrpcArgs(container.args, envOf(container));
      assert.ok('options' in parsed);
      assert.equal(parsed.options.target, target);
      assert.equal(parsed.options.output, 'jsonl');
      assert.deepEqual(parsed.options.pace, { perSecond: 50 });
      assert.equal(parsed.options.lb, lb ?? (target.startsWith('k8s:') ? 'round_robin' : 'pick_first'));
    });

    it(`${name}: ${mesh ? 'the only kind of pod Linkerd injects' : 'never meshed, whatever the namespace says'}`, () => {
      const annotations = deployment().spec.template.metadata.annotations;
      assert.equal(annotations['linkerd.io/inject'], mesh ? 'enabled' : 'disabled');
    });

    it(`${name}: its profile deploys the server, what it calls, and itself`, () => {
      const objects = deployedBy(label);
      assert.deepEqual(
        (profile(label).manifests.rawYaml as string[]).sort(),
        ['k8s/server.yml', ...[label, ...(strategy.needs ?? [])].map((dir) => `k8s/strategies/${dir}/*.yml`)].sort(),
      );
      assert.ok(named(objects, 'Deployment', `addr-client-${label}`));
      const [container] = deployment().spec.template.spec.containers;
      const env = envOf(container);
      const { service, port } = calledService(target, env);
      const called = named(objects, 'Service', service);
      if (target === 'addr-edge:30051') {
        // The Envoy Service, which Envoy Gateway makes from the Gateway and names after the EnvoyProxy.
        const gateway = named(objects, 'Gateway', 'addr-edge') as Doc;
        const proxy = named(objects, 'EnvoyProxy', gateway.spec.infrastructure.parametersRef.name) as Doc;
        assert.equal(proxy.spec.provider.kubernetes.envoyService.name, service);
        assert.ok(gateway.spec.listeners.some((l: Doc) => l.port === port));
        return;
      }
      assert.ok(called, `${target}: no Service ${service} in the profile`);
      assert.ok(
        called.spec.ports.some((p: Doc) => p.port === port || p.name === port),
        `Service ${service} serves no port ${port}`,
      );
      if (target.startsWith('dns:')) assert.equal(called.spec.clusterIP, 'None', 'DNS answers pod IPs: headless');
      else assert.notEqual(called.spec.clusterIP, 'None', 'Linkerd and kube-proxy need a virtual IP');
      const pods = objects.filter(
        (doc) => doc.kind === 'Deployment' && selects(called.spec.selector, doc.spec.template.metadata.labels),
      );
      assert.ok(pods.length > 0, `Service ${service} selects no pods`);
    });
  }
});

/** The Service (and port) a client's target reaches: its host, its DNS name, or its control plane's. */
function calledService(target: string, env: Record<string, string>): { service: string; port: number | string } {
  const xds = /^xds:\/\/\/(.+)$/.exec(target);
  if (xds) {
    const bootstrap = JSON.parse(env.GRPC_XDS_BOOTSTRAP_CONFIG ?? '{}') as {
      xds_servers: Array<{ server_uri: string }>;
    };
    const [host = '', port = ''] = bootstrap.xds_servers[0]?.server_uri.split(':') ?? [];
    return { service: host, port: Number(port) };
  }
  const match = /^(?:(?:dns|k8s):\/\/\/)?([a-z0-9-]+):([a-z0-9-]+)$/.exec(target);
  assert.ok(match, `${target}: not a short Service name and port`);
  const port = match[2] as string;
  return { service: match[1] as string, port: /^\d+$/.test(port) ? Number(port) : port };
}

describe('every strategy as manifests: hardening, as k8s/server.yml', () => {
  const deployments = docs.filter(({ doc }) => doc.kind === 'Deployment').map(({ doc }) => doc);
  const pod = serverDeployment.spec.template.spec;
  const [serverContainer] = pod.containers;

  for (const deployment of deployments) {
    it(`${deployment.metadata.name}: the server's pod and container security, resources, no token it does not use`, () => {
      const spec = deployment.spec.template.spec;
      assert.deepEqual(spec.securityContext, pod.securityContext);
      assert.equal(spec.enableServiceLinks, false);
      assert.ok(spec.terminationGracePeriodSeconds > 0);
      for (const container of spec.containers) {
        assert.deepEqual(container.securityContext, serverContainer.securityContext);
        assert.ok(container.resources.requests.cpu && container.resources.requests.memory, 'requests');
        assert.ok(container.resources.limits.cpu && container.resources.limits.memory, 'limits');
      }
      if (spec.serviceAccountName === undefined) {
        assert.equal(spec.automountServiceAccountToken, false);
        return;
      }
      // Its own ServiceAccount (no token elsewhere), allowed to read EndpointSlices in its namespace only.
      const objects = docs.map(({ doc }) => doc);
      const account = named(objects, 'ServiceAccount', spec.serviceAccountName) as Doc;
      assert.equal(account?.automountServiceAccountToken, false);
      assert.equal(spec.automountServiceAccountToken, true);
      const binding = objects.find(
        (doc) => doc.kind === 'RoleBinding' && doc.subjects.some((s: Doc) => s.name === account.metadata.name),
      ) as Doc;
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name }]);
      assert.equal(binding.roleRef.kind, 'Role');
      const role = named(objects, 'Role', binding.roleRef.name) as Doc;
      assert.deepEqual(role.rules, [
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      ]);
      assert.ok(!objects.some((doc) => /^Cluster/.test(doc.kind)), 'no ClusterRole or ClusterRoleBinding');
    });
  }

  it("the clients' pods are secured as the walkthrough's client-grpc.yml", () => {
    for (const deployment of deployments.filter((d) => 'grpc-lb.io/strategy' in d.metadata.labels)) {
      assert.deepEqual(deployment.spec.template.spec.securityContext, plainClient.spec.template.spec.securityContext);
    }
  });
});

describe('the server variants: identical to k8s/server.yml but for what makes them variants', () => {
  /** The Deployment with its name, labels, selector and the given variables taken away, for comparing. */
  const core = (deployment: Doc, variables: string[]) => {
    const copy = structuredClone(deployment);
    delete copy.metadata.name;
    delete copy.metadata.labels;
    delete copy.spec.selector;
    delete copy.spec.template.metadata.labels;
    for (const container of copy.spec.template.spec.containers) {
      container.env = container.env.filter((e: Doc) => !variables.includes(e.name));
    }
    return copy;
  };
  const deployment = (name: string) => {
    const found = docs.find(({ doc }) => doc.kind === 'Deployment' && doc.metadata.name === name)?.doc;
    assert.ok(found, `no Deployment ${name}`);
    return found;
  };

  it('addr-server-aged: 5 s max connection age, its own app label, and nothing else differs', () => {
    const aged = deployment('addr-server-aged');
    assert.equal(envOf(aged.spec.template.spec.containers[0]).ADDR_SERVER_MAX_CONNECTION_AGE_MS, '5000');
    assert.deepEqual(aged.metadata.labels, { app: 'addr-server-aged' });
    assert.deepEqual(aged.spec.selector.matchLabels, { app: 'addr-server-aged' });
    assert.deepEqual(aged.spec.template.metadata.labels, { app: 'addr-server-aged' });
    assert.deepEqual(core(aged, ['ADDR_SERVER_MAX_CONNECTION_AGE_MS']), core(serverDeployment, []));
  });

  it('the drift check fails when the aged server drifts (a changed probe)', () => {
    const drifted = structuredClone(deployment('addr-server-aged'));
    drifted.spec.template.spec.containers[0].readinessProbe.periodSeconds = 5;
    assert.notDeepEqual(core(drifted, ['ADDR_SERVER_MAX_CONNECTION_AGE_MS']), core(serverDeployment, []));
  });

  it("addr-server-aged's Services: one with a virtual IP (l4+age), one headless (dns+age), both over its pods only", () => {
    const objects = docs.map(({ doc }) => doc);
    const plain = named(objects, 'Service', 'addr-server-aged') as Doc;
    const headless = named(objects, 'Service', 'addr-server-aged-headless') as Doc;
    assert.notEqual(plain.spec.clusterIP, 'None');
    assert.equal(headless.spec.clusterIP, 'None');
    for (const service of [plain, headless]) assert.deepEqual(service.spec.selector, { app: 'addr-server-aged' });
  });

  for (const [name, kind, variables] of [
    ['addr-server-slow', 'slow', { ADDR_SERVER_DELAY_MS: '1000' }],
    ['addr-server-failing', 'failing', { ADDR_SERVER_FAIL_PERCENT: '100', ADDR_SERVER_FAIL_CODE: 'UNAVAILABLE' }],
  ] as const) {
    it(`${name}: one pod the addr-server Service selects, labelled a fault, with ${Object.keys(variables).join(' and ')}`, () => {
      const fault = deployment(name);
      assert.equal(docs.find(({ doc }) => doc === fault)?.file, `k8s/faults/${kind}.yml`);
      const labels = { app: 'addr-server', 'grpc-lb.io/fault': 'true', 'grpc-lb.io/fault-kind': kind };
      assert.deepEqual(fault.metadata.labels, labels);
      assert.deepEqual(fault.spec.selector.matchLabels, labels);
      assert.deepEqual(fault.spec.template.metadata.labels, labels);
      assert.equal(fault.spec.replicas, 1);
      const service = server.find((doc) => doc.kind === 'Service') as Doc;
      assert.ok(selects(service.spec.selector, fault.spec.template.metadata.labels), 'the Service selects it');
      const env = envOf(fault.spec.template.spec.containers[0]);
      for (const [variable, value] of Object.entries(variables)) assert.equal(env[variable], value);
      assert.deepEqual(core(fault, Object.keys(variables)), core(serverDeployment, []));
    });
  }

  it("the two faults' selectors are apart: neither Deployment takes the other's pods", () => {
    const slow = deployment('addr-server-slow').spec.selector.matchLabels;
    const failing = deployment('addr-server-failing');
    assert.ok(!selects(slow, failing.spec.template.metadata.labels));
  });
});

describe('the xDS control plane manifest', () => {
  const objects = load('k8s/strategies/xds/control-plane.yml');
  const deployment = named(objects, 'Deployment', 'addr-xds-control-plane') as Doc;
  const [container] = deployment.spec.template.spec.containers;

  it("runs the addr-xds-control-plane image, whose own parser takes its env: the addr-server Service's grpc port", () => {
    assert.equal(container.image, 'addr-xds-control-plane');
    const parsed = parseControlPlaneArgs(container.args ?? [], envOf(container));
    assert.ok('options' in parsed);
    assert.equal(parsed.options.service, 'addr-server');
    assert.equal(parsed.options.namespace, undefined, "the pod's own");
    assert.equal(parsed.options.endpointPort, 'grpc');
    const ads = container.ports.find((p: Doc) => p.name === 'ads');
    assert.equal(ads.containerPort, parsed.options.adsPort);
    assert.equal(container.readinessProbe.grpc.port, parsed.options.adsPort, 'ready once it has listed the slices');
    const service = named(objects, 'Service', 'addr-xds-control-plane') as Doc;
    assert.deepEqual(
      service.spec.ports.map((p: Doc) => [p.port, p.targetPort]),
      [[parsed.options.adsPort, 'ads']],
    );
    assert.ok(selects(service.spec.selector, deployment.spec.template.metadata.labels));
    const serverService = server.find((doc) => doc.kind === 'Service') as Doc;
    assert.ok(serverService.spec.ports.some((p: Doc) => p.name === parsed.options.endpointPort));
  });

  it("the xds client's bootstrap names this Service and port, plain text, xDS v3, and grpc-js-xds takes it", () => {
    const client = load('k8s/strategies/xds/client.yml')[0] as Doc;
    const bootstrap = JSON.parse(envOf(client.spec.template.spec.containers[0]).GRPC_XDS_BOOTSTRAP_CONFIG ?? '');
    // The client library's own check (it refuses, say, a node without a locality, and then fails every call).
    validateBootstrapConfig(bootstrap);
    assert.throws(() => validateBootstrapConfig({ ...bootstrap, node: { id: bootstrap.node.id } }), /locality/);
    assert.deepEqual(bootstrap.xds_servers, [
      {
        server_uri: 'addr-xds-control-plane:18000',
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ]);
    assert.ok(bootstrap.node.id);
  });
});

describe('the edge: Gateway API objects for Envoy Gateway', () => {
  const objects = load('k8s/strategies/edge/gateway.yml').concat(load('k8s/strategies/edge/gatewayclass.yml'));

  it("the Gateway's class is Envoy Gateway's, and the GRPCRoute sends its listener's calls to the addr-server Service", () => {
    const gateway = named(objects, 'Gateway', 'addr-edge') as Doc;
    const gatewayClass = named(objects, 'GatewayClass', gateway.spec.gatewayClassName) as Doc;
    assert.equal(gatewayClass.spec.controllerName, 'gateway.envoyproxy.io/gatewayclass-controller');
    const route = objects.find((doc) => doc.kind === 'GRPCRoute') as Doc;
    assert.deepEqual(route.spec.parentRefs, [{ name: 'addr-edge', sectionName: gateway.spec.listeners[0].name }]);
    const serverService = server.find((doc) => doc.kind === 'Service') as Doc;
    for (const ref of route.spec.rules.flatMap((rule: Doc) => rule.backendRefs)) {
      assert.equal(ref.name, serverService.metadata.name);
      assert.ok(serverService.spec.ports.some((p: Doc) => p.port === ref.port));
    }
    const [listener] = gateway.spec.listeners;
    assert.equal(listener.protocol, 'HTTP', 'plain HTTP/2, as the pods serve it');
    assert.deepEqual(listener.allowedRoutes.kinds, [{ kind: 'GRPCRoute' }]);
  });
});

describe('skaffold.yaml: the strategies', () => {
  it('compare deploys the server and every file under k8s/strategies; faults adds k8s/faults', () => {
    assert.deepEqual(profile('compare').manifests.rawYaml, ['k8s/server.yml', 'k8s/strategies/*/*.yml']);
    const compared = new Set((profile('compare').manifests.rawYaml as string[]).flatMap(expand));
    for (const file of globSync('k8s/strategies/**/*.{yml,yaml}', { cwd: root })) assert.ok(compared.has(file), file);
    assert.deepEqual(profile('faults').patches, [
      { op: 'add', path: '/manifests/rawYaml/-', value: 'k8s/faults/*.yml' },
    ]);
    assert.deepEqual(expand('k8s/faults/*.yml'), ['k8s/faults/failing.yml', 'k8s/faults/slow.yml']);
  });

  it('every object compare deploys has a name of its own', () => {
    const keys = deployedBy('compare').map((doc) => `${doc.kind}/${doc.metadata.name}`);
    assert.deepEqual(
      keys.filter((key, i) => keys.indexOf(key) !== i),
      [],
    );
  });

  it('builds every image the strategies run, each from its target of the one Dockerfile', () => {
    const artifacts = Object.fromEntries(skaffold.build.artifacts.map((a: Doc) => [a.image, a.docker]));
    const images = new Set(
      [...deployedBy('compare'), ...docs.map(({ doc }) => doc)]
        .filter((doc) => doc.kind === 'Deployment')
        .flatMap((doc) => doc.spec.template.spec.containers.map((c: Doc) => c.image)),
    );
    for (const image of images) assert.ok(artifacts[image], `no artifact builds ${image}`);
    assert.deepEqual(artifacts['addr-xds-control-plane'], { dockerfile: 'Dockerfile', target: 'xds-control-plane' });
  });
});
