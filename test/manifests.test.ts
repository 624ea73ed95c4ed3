// The Kubernetes manifests, kind config and skaffold.yaml: valid against their schemas, and consistent
// with each other and with the server's defaults.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { parseK8sTarget } from '../src/clients/k8s-target.js';
import { parseServerArgs } from '../src/server/options.js';
import { parseAllDocuments } from 'yaml';
import { root } from './support/root.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(`${root}${file}`, 'utf8')).map((doc) => {
    assert.equal(doc.errors.length, 0, `${file}: ${doc.errors.join('; ')}`);
    return doc.toJS() as Doc;
  });

const manifestFiles = ['k8s/server.yml', 'k8s/client-grpc.yml', 'k8s/client-http.yml', 'ns.yml'];
const docs = manifestFiles.flatMap((file) => load(file).map((doc) => ({ file, doc })));
const find = (kind: string, name: string) => {
  const found = docs.find(({ doc }) => doc.kind === kind && doc.metadata?.name === name)?.doc;
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const deployments = docs.filter(({ doc }) => doc.kind === 'Deployment').map(({ doc }) => doc);
const server = find('Deployment', 'addr-server');
const service = find('Service', 'addr-server');
const serverContainer = server.spec.template.spec.containers[0];
const skaffold = load('skaffold.yaml')[0] as Doc;

describe('Kubernetes manifests', () => {
  const models: Record<string, new (data: Doc) => { validate(): void }> = {
    'apps/v1/Deployment': Deployment,
    'v1/Service': Service,
    'v1/Namespace': Namespace,
  };
  for (const { file, doc } of docs) {
    it(`${file}: ${doc.kind} ${doc.metadata?.name} is valid against the Kubernetes API schema`, () => {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model, `unexpected ${doc.apiVersion} ${doc.kind}`);
      new Model(doc).validate();
    });
  }

  it('a broken manifest fails the schema check (the check can fail)', () => {
    const broken = structuredClone(server);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
    assert.throws(() => new Deployment(broken).validate(), /containerPort/);
  });

  it('every Deployment selects its own pods, and the Service selects the server pods', () => {
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels)) {
        assert.equal(labels[key], value, `${deployment.metadata.name}: selector ${key}=${value}`);
      }
    }
    assert.deepEqual(service.spec.selector, { app: 'addr-server' });
    for (const [key, value] of Object.entries(service.spec.selector)) {
      assert.equal(server.spec.template.metadata.labels[key], value);
    }
  });

  it('ports agree: server defaults, container ports, env, probes and the Service', () => {
    const containerPorts = Object.fromEntries(serverContainer.ports.map((p: Doc) => [p.name, p.containerPort]));
    assert.deepEqual(containerPorts, { http: 8080, grpc: 30051 });
    const env = Object.fromEntries(
      serverContainer.env.filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, e.value]),
    );
    assert.equal(env.ADDR_SERVER_HTTP_PORT, '8080');
    assert.equal(env.ADDR_SERVER_GRPC_PORT, '30051');
    // The server's own defaults, from its parser with nothing given: the manifest's ports are the ones it
    // listens on without the variables too.
    const defaults = parseServerArgs([], {});
    assert.ok(defaults.kind === 'serve');
    assert.deepEqual([defaults.options.httpPort, defaults.options.grpcPort], [8080, 30051]);

    const probePort = (probe: Doc) => probe.grpc?.port ?? probe.httpGet?.port ?? probe.tcpSocket?.port;
    for (const probe of [serverContainer.readinessProbe, serverContainer.livenessProbe]) {
      const port = probePort(probe);
      assert.ok(
        port === 'http' || port === 'grpc' || Object.values(containerPorts).includes(port),
        `probe port ${port}`,
      );
    }
    // Alive = HTTP GET /health answers (the manifest's comment says so): an httpGet probe on that path.
    assert.equal(serverContainer.livenessProbe.httpGet?.path, '/health');

    const servicePorts = Object.fromEntries(service.spec.ports.map((p: Doc) => [p.name, p]));
    assert.equal(service.spec.type, 'NodePort');
    assert.deepEqual(
      [servicePorts.http.port, servicePorts.http.targetPort, servicePorts.http.nodePort],
      [80, 'http', 30080],
    );
    assert.deepEqual(
      [servicePorts.grpc.port, servicePorts.grpc.targetPort, servicePorts.grpc.nodePort],
      [30051, 'grpc', 30051],
    );
  });

  it("no pod gets service-link variables, and the server's heap fits its memory limit", () => {
    for (const deployment of deployments) {
      assert.equal(deployment.spec.template.spec.enableServiceLinks, false, deployment.metadata.name);
    }
    const nodeOptions = serverContainer.env.find((e: Doc) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    const limitMiB = Number(/^(\d+)Mi$/.exec(serverContainer.resources.limits.memory)?.[1]);
    assert.ok(heapMiB > 0 && limitMiB > 0, `heap ${nodeOptions}, limit ${serverContainer.resources.limits.memory}`);
    assert.ok(heapMiB <= limitMiB * 0.75, `a ${heapMiB} MiB heap leaves too little of ${limitMiB} Mi for the rest`);
  });

  it('readiness tolerates one slow probe: several failures, each given more than a second', () => {
    const probe = serverContainer.readinessProbe;
    assert.ok(probe.failureThreshold >= 2, `failureThreshold ${probe.failureThreshold}`);
    assert.ok((probe.timeoutSeconds ?? 1) >= 2, `timeoutSeconds ${probe.timeoutSeconds}`);
  });

  it('the server gets its pod IP from the downward API', () => {
    const podIp = serverContainer.env.find((e: Doc) => e.name === 'POD_IP');
    assert.equal(podIp?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
  });

  it('the server drains within its termination grace period', () => {
    const env = Object.fromEntries(
      serverContainer.env.filter((e: Doc) => 'value' in e).map((e: Doc) => [e.name, Number(e.value)]),
    );
    const drainSeconds = (env.ADDR_SERVER_SHUTDOWN_DELAY_MS + env.ADDR_SERVER_GRACE_MS) / 1000;
    assert.ok(drainSeconds < server.spec.template.spec.terminationGracePeriodSeconds, `${drainSeconds} s`);
  });

  it('the in-cluster clients point at the Service', () => {
    assert.deepEqual(find('Deployment', 'addr-client-grpc').spec.template.spec.containers[0].args, [
      'addr-server:30051',
    ]);
    assert.deepEqual(find('Deployment', 'addr-client-http').spec.template.spec.containers[0].args, [
      'http://addr-server/addr',
    ]);
  });

  it('every pod passes the Pod Security "restricted" profile and sets resources', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      const name = deployment.metadata.name;
      assert.equal(pod.securityContext.runAsNonRoot, true, name);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', name);
      assert.ok(pod.securityContext.runAsUser > 0, name);
      for (const container of pod.containers) {
        const sc = container.securityContext;
        assert.equal(sc.allowPrivilegeEscalation, false, name);
        assert.deepEqual(sc.capabilities.drop, ['ALL'], name);
        assert.equal(sc.capabilities.add, undefined, name);
        assert.notEqual(sc.privileged, true, name);
        assert.ok(container.resources.requests.cpu && container.resources.requests.memory, name);
        assert.ok(container.resources.limits.memory, name);
      }
    }
  });

  it('the namespace is grpc-lb and asks Linkerd to inject its proxy', () => {
    const ns = find('Namespace', 'grpc-lb');
    assert.equal(ns.metadata.annotations['linkerd.io/inject'], 'enabled');
    for (const { doc } of docs) assert.equal(doc.metadata.namespace, undefined, 'manifests take the namespace from -n');
  });

  it('the kind cluster maps both NodePorts to the host', () => {
    const [kind] = load('k8s/kind-cluster.yml') as [Doc];
    assert.equal(kind.apiVersion, 'kind.x-k8s.io/v1alpha4');
    const mapped = kind.nodes
      .flatMap((node: Doc) => node.extraPortMappings ?? [])
      .map((m: Doc) => [m.containerPort, m.hostPort]);
    for (const nodePort of service.spec.ports.map((p: Doc) => p.nodePort)) {
      assert.ok(
        mapped.some(([c, h]: number[]) => c === nodePort && h === nodePort),
        `NodePort ${nodePort} not mapped`,
      );
    }
  });

  it("the namespace's Pod Security labels name real modes and levels, and enforcement admits linkerd-init", () => {
    const labels: Record<string, string> = find('Namespace', 'grpc-lb').metadata.labels ?? {};
    const podSecurity = Object.entries(labels).filter(([key]) => key.startsWith('pod-security.kubernetes.io/'));
    for (const [key, value] of podSecurity) {
      const mode = key.slice('pod-security.kubernetes.io/'.length);
      if (mode.endsWith('-version')) {
        assert.match(mode, /^(enforce|audit|warn)-version$/, key);
        assert.match(value, /^(latest|v1\.\d+)$/, `${key}: ${value}`);
      } else {
        assert.match(mode, /^(enforce|audit|warn)$/, key);
        assert.match(value, /^(privileged|baseline|restricted)$/, `${key}: ${value}`);
      }
    }
    // linkerd-init adds NET_ADMIN and NET_RAW, which baseline and restricted both refuse.
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'privileged');
  });
});

describe('skaffold.yaml', () => {
  it('is valid against the skaffold/v4beta14 schema', () => {
    const schema = JSON.parse(readFileSync(`${root}test/schemas/skaffold-v4beta14.json`, 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, skaffold);
    assert.ok(valid, ajv.errorsText(ajv.errors));
    assert.equal(skaffold.apiVersion, 'skaffold/v4beta14');
  });

  it('rejects a broken config (the schema check can fail)', () => {
    const schema = JSON.parse(readFileSync(`${root}test/schemas/skaffold-v4beta14.json`, 'utf8'));
    const ajv = new Ajv({ strict: false });
    assert.equal(
      ajv.validate(schema, { ...skaffold, build: { artifacts: [{ image: 'x', docker: { target: 3 } }] } }),
      false,
    );
  });

  it('builds an artifact for every image the manifests use, each from its target of the one Dockerfile', () => {
    const artifacts = Object.fromEntries(skaffold.build.artifacts.map((a: Doc) => [a.image, a.docker]));
    const images = deployments.flatMap((d) => d.spec.template.spec.containers.map((c: Doc) => c.image));
    for (const image of images) assert.ok(artifacts[image], `no artifact builds ${image}`);
    assert.deepEqual(artifacts['addr-server'], { dockerfile: 'Dockerfile', target: 'server' });
    assert.deepEqual(artifacts['addr-client-http'], { dockerfile: 'Dockerfile', target: 'client-http' });
    assert.deepEqual(artifacts['addr-client-grpc'], { dockerfile: 'Dockerfile', target: 'client-grpc' });
  });

  it('deploys only the server by default; the clients profile adds the in-cluster clients', () => {
    assert.deepEqual(skaffold.manifests.rawYaml, ['k8s/server.yml']);
    const clients = skaffold.profiles.find((p: Doc) => p.name === 'clients');
    assert.deepEqual(clients.manifests.rawYaml.sort(), [
      'k8s/client-grpc.yml',
      'k8s/client-http.yml',
      'k8s/server.yml',
    ]);
  });
});

describe('k8s/client-grpc-k8s.yml: client-grpc with the k8s:/// resolver', () => {
  const resolverDocs = load('k8s/client-grpc-k8s.yml');
  const only = (kind: string) => {
    const found = resolverDocs.filter((doc) => doc.kind === kind);
    assert.equal(found.length, 1, `one ${kind}`);
    return found[0] as Doc;
  };

  it('is a ServiceAccount, a Role, a RoleBinding and a Deployment, each valid against the Kubernetes API schema', () => {
    const models: Record<string, new (data: Doc) => { validate(): void }> = {
      'v1/ServiceAccount': ServiceAccount,
      'rbac.authorization.k8s.io/v1/Role': Role,
      'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding as unknown as new (data: Doc) => RoleBinding, // roleRef typed as required
      'apps/v1/Deployment': Deployment,
    };
    assert.deepEqual(resolverDocs.map((doc) => `${doc.apiVersion}/${doc.kind}`).sort(), Object.keys(models).sort());
    for (const doc of resolverDocs)
      new (models[`${doc.apiVersion}/${doc.kind}`] as (typeof models)[string])(doc).validate();
    const broken = structuredClone(only('Role'));
    broken.rules[0].verbs = 'watch';
    assert.throws(() => new Role(broken).validate(), /verbs/);
  });

  it('may read EndpointSlices and nothing else, in its own namespace only', () => {
    const role = only('Role');
    assert.deepEqual(role.rules, [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    assert.equal(
      resolverDocs.some((doc) => /^Cluster/.test(doc.kind)),
      false,
      'no ClusterRole or ClusterRoleBinding',
    );
    for (const doc of resolverDocs) assert.equal(doc.metadata.namespace, undefined, 'the namespace comes from -n');
  });

  it('binds the Role to the ServiceAccount the Deployment runs as, and only that pod mounts its token', () => {
    const account = only('ServiceAccount');
    const binding = only('RoleBinding');
    const pod = only('Deployment').spec.template.spec;
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: only('Role').metadata.name,
    });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name }]);
    assert.equal(pod.serviceAccountName, account.metadata.name);
    assert.equal(account.automountServiceAccountToken, false);
    assert.equal(pod.automountServiceAccountToken, true);
    assert.equal(pod.enableServiceLinks, false);
  });

  it('runs the client-grpc image with the same pod security as client-grpc.yml, on a k8s:/// target the Service serves', () => {
    const deployment = only('Deployment');
    const plain = find('Deployment', 'addr-client-grpc').spec.template.spec;
    const pod = deployment.spec.template.spec;
    assert.equal(deployment.metadata.name, 'addr-client-grpc-k8s');
    assert.deepEqual(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels);
    assert.deepEqual(pod.securityContext, plain.securityContext);
    const [container] = pod.containers;
    assert.equal(pod.containers.length, 1);
    assert.equal(container.image, 'addr-client-grpc');
    assert.ok(
      skaffold.build.artifacts.some((a: Doc) => a.image === container.image),
      'Skaffold builds the image',
    );
    assert.deepEqual(container.securityContext, plain.containers[0].securityContext);
    assert.ok(
      container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory,
    );
    const target = parseK8sTarget(container.args[0]);
    assert.equal(container.args.length, 1);
    assert.equal(target.service, service.metadata.name);
    assert.equal(target.namespace, undefined, "the pod's own namespace");
    assert.ok(
      service.spec.ports.some((p: Doc) => p.name === target.port || p.targetPort === target.port),
      `the Service has no port ${target.port}`,
    );
  });

  it('the k8s-resolver Skaffold profile deploys the server and this client', () => {
    const profile = skaffold.profiles.find((p: Doc) => p.name === 'k8s-resolver');
    assert.deepEqual(profile?.manifests.rawYaml.sort(), ['k8s/client-grpc-k8s.yml', 'k8s/server.yml']);
  });
});
