// The strategies as a user deploys them — k8s/strategies/FOLDER/*.yml, a folder per strategy (skaffold.yaml's
// profile of the same name deploys it) — brought into the lab, which runs the same files:
//   - the Deployments of the kit's server image and the Services are applied to the lab's API as kubectl
//     would apply them (the +age servers, the headless Services, the annotated Service of mesh-accrual);
//   - a client Deployment (labelled grpc-lb.io/strategy) is applied too when the lab runs clients as pods
//     (`lab up`), or handed back to run as a process of its own (`lab compare`, which measures its cost);
//   - what the lab cannot run gets a stand-in, said in one line: nginx for the Envoy of an Envoy Gateway
//     Gateway (there is no Envoy Gateway here), the lab's own ADS server for the xDS control plane's
//     Deployment, which it does not run (it times every push in its own process);
//   - RBAC objects are not applied: the lab enforces none (one line).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../api/store.js';
import type { Cluster } from '../cluster.js';
import { specOf, type DeploymentSpec } from '../controllers/objects.js';
import { EdgeProxy, findNginx, NGINX_INSTALL } from '../data-plane/edge-proxy.js';
import { XdsServer } from '../data-plane/xds-server.js';
import { checkDeployment, checkService, ManifestError } from '../manifests.js';
import { imageName } from '../node/images.js';
import type { ClientEntry } from './clients.js';

export const STRATEGY_LABEL = 'grpc-lb.io/strategy';
/** The variable of the +age servers that `--connection-age-ms` sets. */
export const CONNECTION_AGE = 'ADDR_SERVER_MAX_CONNECTION_AGE_MS';

const RBAC = new Set(['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
const GATEWAY = new Set(['GatewayClass', 'Gateway', 'GRPCRoute', 'HTTPRoute', 'EnvoyProxy']);
const CLIENT_IMAGES = new Set(['addr-client-grpc', 'addr-client-http']);
const CONTROL_PLANE_IMAGE = 'addr-xds-control-plane';

export interface FolderObject {
  /** the file, as given (DIR/FOLDER/FILE.yml) */
  file: string;
  folder: string;
  object: KubeObject;
}

/** Every object of the folders' YAML files (*.yml, *.yaml), in the order the files and documents come. */
export function loadFolders(dir: string, folders: readonly string[]): FolderObject[] {
  const objects: FolderObject[] = [];
  for (const folder of folders) {
    const path = join(dir, folder);
    let files: string[];
    try {
      if (!statSync(path).isDirectory()) throw new Error('not a folder');
      files = readdirSync(path)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort();
    } catch {
      throw new ManifestError(`${path}: no such folder (the strategy's manifests, as k8s/strategies has them)`);
    }
    for (const name of files) {
      const file = join(path, name);
      parseAllDocuments(readFileSync(file, 'utf8')).forEach((document, i) => {
        if (document.errors.length > 0)
          throw new ManifestError(`${file}: document ${i + 1} is not valid YAML: ${document.errors[0]?.message}`);
        const doc = document.toJS() as unknown;
        if (doc === null || doc === undefined) return;
        const object = doc as KubeObject;
        if (typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string')
          throw new ManifestError(`${file}: document ${i + 1} is not a Kubernetes object (kind, metadata.name)`);
        objects.push({ file, folder, object });
      });
    }
  }
  return objects;
}

const imageOf = (deployment: KubeObject) =>
  imageName(specOf<DeploymentSpec>(deployment).template?.spec?.containers?.[0]?.image);

/** The client Deployment of a strategy: its grpc-lb.io/strategy annotation names it ("+" kept). */
export function clientDeployment(objects: readonly FolderObject[], strategy: string): FolderObject | undefined {
  return objects.find(
    ({ object }) =>
      object.kind === 'Deployment' &&
      object.metadata.annotations?.[STRATEGY_LABEL] === strategy &&
      CLIENT_IMAGES.has(imageOf(object)),
  );
}

export interface StrategyFoldersOptions {
  /** k8s/strategies */
  dir: string;
  /** the +age servers' max connection age instead of the manifest's (--connection-age-ms) */
  connectionAgeMs?: number;
  /** told of what the lab does with what it cannot run as it is, one line each */
  say: (line: string) => void;
}

export class StrategyFolders {
  readonly #cluster: Cluster;
  readonly #options: StrategyFoldersOptions;
  /** why a folder's strategies cannot run here (nginx missing), by folder */
  readonly unavailable = new Map<string, string>();
  edge: EdgeProxy | undefined;
  xds: XdsServer | undefined;
  /** the +age servers' max connection age in effect (ms), once applied */
  connectionAgeMs: number | undefined;
  objects: FolderObject[] = [];

  constructor(cluster: Cluster, options: StrategyFoldersOptions) {
    this.#cluster = cluster;
    this.#options = options;
  }

  /** The folders the entries need, each once, in the catalog's order. */
  static foldersOf(entries: readonly ClientEntry[]): string[] {
    return [...new Set(entries.flatMap((entry) => entry.manifest?.folders ?? []))];
  }

  /**
   * Reads the folders the entries need (ManifestError naming the file when one is wrong), applies them,
   * starts the stand-ins. `clientPods`: the client Deployments are applied too, to run as pods (lab up);
   * else they are left to the caller (lab compare runs each as a process of its own).
   */
  async start(entries: readonly ClientEntry[], clientPods: boolean): Promise<void> {
    const { dir, say } = this.#options;
    this.objects = loadFolders(dir, StrategyFolders.foldersOf(entries));
    const apply: KubeObject[] = [];
    const notes = new Map<string, string[]>();
    const controlPlanes = this.objects.filter(
      ({ object }) => object.kind === 'Deployment' && imageOf(object) === CONTROL_PLANE_IMAGE,
    );
    for (const folder of new Set(this.objects.map((o) => o.folder))) {
      const here = this.objects.filter((o) => o.folder === folder);
      const rbac = here.filter(({ object }) => RBAC.has(object.kind));
      if (rbac.length > 0)
        say(
          `lab: ${join(dir, folder)}: ${names(rbac)}: not applied: the lab enforces no RBAC (its kubeconfig may read and write everything)`,
        );
      const gateway = here.filter(({ object }) => GATEWAY.has(object.kind));
      if (gateway.length > 0) await this.#edge(folder, gateway);
      for (const { file, object } of here) {
        if (RBAC.has(object.kind) || GATEWAY.has(object.kind)) continue;
        const where = `${file}: ${object.kind} ${object.metadata.name}`;
        if (object.kind === 'Service') {
          if (controlPlanes.some((cp) => selects(object, cp.object))) continue; // the ADS stand-in serves it
          checkService(object, where);
          apply.push(object);
        } else if (object.kind === 'Deployment') {
          const image = imageOf(object);
          if (image === CONTROL_PLANE_IMAGE) await this.#xds(folder, object, here);
          else if (CLIENT_IMAGES.has(image) && !clientPods) continue;
          else {
            const deployment = this.#withConnectionAge(object);
            const found: string[] = [];
            checkDeployment(deployment, where, found);
            for (const note of found) {
              const text = note.slice(where.length + 2);
              notes.set(text, [...(notes.get(text) ?? []), object.metadata.name]);
            }
            apply.push(deployment);
          }
        } else say(`lab: ${where}: not run: the lab runs Deployments and Services`);
      }
    }
    // The fields the lab runs without, one line each for all the Deployments that have them.
    for (const [text, deployments] of notes) say(`lab: Deployment ${deployments.join(', ')}: ${text}`);
    await this.#cluster.apply(apply);
  }

  /** The Deployment with --connection-age-ms in place of its max connection age, if it sets one. */
  #withConnectionAge(deployment: KubeObject): KubeObject {
    const containers = specOf<DeploymentSpec>(deployment).template.spec.containers;
    const variable = containers[0]?.env?.find((env) => env.name === CONNECTION_AGE);
    if (!variable) return deployment;
    const wanted = this.#options.connectionAgeMs;
    this.connectionAgeMs = Number(wanted ?? variable.value);
    if (wanted === undefined || String(wanted) === variable.value) return deployment;
    const copy = structuredClone(deployment);
    const env = specOf<DeploymentSpec>(copy).template.spec.containers[0]?.env?.find((e) => e.name === CONNECTION_AGE);
    if (env) env.value = String(wanted);
    this.#options.say(
      `lab: Deployment ${deployment.metadata.name}: env ${CONNECTION_AGE} ${variable.value} → ${wanted} (--connection-age-ms)`,
    );
    return copy;
  }

  /** nginx in place of the Envoy an Envoy Gateway Gateway would get: the Gateway's Service, to the GRPCRoute's backend. */
  async #edge(folder: string, objects: readonly FolderObject[]): Promise<void> {
    const gateway = objects.find(({ object }) => object.kind === 'Gateway')?.object;
    const proxy = objects.find(({ object }) => object.kind === 'EnvoyProxy')?.object;
    const route = objects.find(({ object }) => object.kind === 'GRPCRoute')?.object;
    const listeners = ((gateway?.spec as { listeners?: Array<{ port?: number }> } | undefined)?.listeners ?? [])
      .map((listener) => listener.port)
      .filter((port): port is number => typeof port === 'number');
    // Envoy Gateway names the Envoy's Service as the EnvoyProxy says, else after the Gateway.
    const service =
      (proxy?.spec as { provider?: { kubernetes?: { envoyService?: { name?: string } } } } | undefined)?.provider
        ?.kubernetes?.envoyService?.name ?? gateway?.metadata.name;
    const backend = (route?.spec as { rules?: Array<{ backendRefs?: Array<{ name?: string }> }> } | undefined)
      ?.rules?.[0]?.backendRefs?.[0]?.name;
    const where = `lab: ${join(this.#options.dir, folder)}: ${names(objects)}: not run (no Envoy Gateway in the lab)`;
    if (!service || !backend || listeners.length === 0) {
      this.#options.say(`${where}, and no Gateway with a listener and a GRPCRoute with a backend to stand in for`);
      this.unavailable.set(folder, 'no Gateway and GRPCRoute the lab can stand in for');
      return;
    }
    const nginx = findNginx();
    if (!nginx) {
      this.#options.say(`${where}; nginx would stand in for its Envoy, but ${NGINX_INSTALL}`);
      this.unavailable.set(folder, NGINX_INSTALL);
      return;
    }
    this.edge = new EdgeProxy(nginx, this.#cluster.endpoints(backend));
    let port: number;
    try {
      port = await this.edge.listen(0);
    } catch (error) {
      this.unavailable.set(folder, (error as Error).message); // its row says why; the others go on
      return;
    }
    this.#cluster.standIn(
      service,
      {
        address: { host: '127.0.0.1', port },
        by: `nginx, standing in for the Envoy of the Gateway ${gateway?.metadata.name} (Service ${service})`,
      },
      listeners,
    );
    this.#options.say(
      `${where}; nginx stands in for its Envoy, as the Service ${service} port ${listeners.join(', ')} at 127.0.0.1:${port}: grpc_pass to the Service ${backend}'s ready pods (the GRPCRoute's backendRef), reloaded on every change`,
    );
  }

  /** The lab's ADS server in place of the control plane's Deployment: the same server, fed by the lab's endpoints. */
  async #xds(folder: string, deployment: KubeObject, objects: readonly FolderObject[]): Promise<void> {
    const env = specOf<DeploymentSpec>(deployment).template.spec.containers[0]?.env ?? [];
    const service = env.find((e) => e.name === 'ADDR_XDS_SERVICE')?.value ?? 'addr-server';
    this.xds = new XdsServer(service, this.#cluster.endpoints(service));
    const port = await this.xds.listen(0);
    const fronts = objects.filter(({ object }) => object.kind === 'Service' && selects(object, deployment));
    for (const { object } of fronts) {
      const ports = ((object.spec as { ports?: Array<{ port: number }> }).ports ?? []).map((p) => p.port);
      this.#cluster.standIn(
        object.metadata.name,
        {
          address: { host: '127.0.0.1', port },
          by: `the lab's own ADS server (src/xds/ads-server.ts), standing in for the Deployment ${deployment.metadata.name}`,
        },
        ports,
      );
    }
    this.#options.say(
      `lab: ${join(this.#options.dir, folder)}: Deployment ${deployment.metadata.name}${fronts.length ? ` and its Service ${fronts.map((f) => f.object.metadata.name).join(', ')}` : ''}: not run; the lab's own ADS server (the one out/xds-control-plane runs) serves the Service ${service}'s ready pods (ADDR_XDS_SERVICE) at 127.0.0.1:${port}, so that the lab can time each push`,
    );
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.edge?.close(), this.xds?.close()]);
  }
}

/** "GatewayClass x, Gateway y": the objects, named as kubectl names them. */
function names(objects: readonly FolderObject[]): string {
  return objects.map(({ object }) => `${object.kind} ${object.metadata.name}`).join(', ');
}

/** Whether a Service's selector picks a Deployment's pods. */
function selects(service: KubeObject, deployment: KubeObject): boolean {
  const selector = (service.spec as { selector?: Record<string, string> } | undefined)?.selector;
  const labels = specOf<DeploymentSpec>(deployment).template?.metadata?.labels ?? {};
  return !!selector && Object.entries(selector).every(([key, value]) => labels[key] === value);
}
