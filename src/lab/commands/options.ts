// The options several `lab` commands share, each defined once: the ports, the pod network, the manifest,
// the mesh's balancer, the pace of the clients, files to write.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { kinds, numberOption } from '../../common/cli.js';
import { BALANCERS, type BalancerName } from '../data-plane/balancer.js';
import { DEFAULT_GRPC_NODE_PORT, DEFAULT_HTTP_NODE_PORT, DEFAULT_MESH_PORT, DEFAULT_POD_CIDR } from '../defaults.js';
import { loadManifests, type Manifests } from '../manifests.js';
import { loadScenario, type Scenario } from '../experiment/scenario.js';

export const portOptions = {
  'http-node-port': numberOption(
    'http-node-port',
    kinds.port,
    "the Service's HTTP NodePort (0: any free port)",
    DEFAULT_HTTP_NODE_PORT,
  ),
  'grpc-node-port': numberOption(
    'grpc-node-port',
    kinds.port,
    "the Service's gRPC NodePort (0: any free port)",
    DEFAULT_GRPC_NODE_PORT,
  ),
  'mesh-port': numberOption(
    'mesh-port',
    kinds.port,
    "the mesh sidecar's port for in-mesh clients (0: any free port)",
    DEFAULT_MESH_PORT,
  ),
} as const;

export const apiPortOption = (defaultPort: number) =>
  ({
    'api-port': numberOption(
      'api-port',
      kinds.port,
      "the lab's Kubernetes API, which kubectl and `lab scale` talk to (0: any free port)",
      defaultPort,
    ),
  }) as const;

export const podCidrOption = {
  'pod-cidr': {
    type: 'string',
    default: DEFAULT_POD_CIDR,
    describe: "the pods' addresses: a /24 in 127.0.0.0/8, all local on Linux (pods get .8, .9, …)",
    coerce: (value: string) => {
      if (!/^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.0\/24$/.test(value)) {
        throw new Error(
          `--pod-cidr must be a /24 inside 127.0.0.0/8 such as ${DEFAULT_POD_CIDR}, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    },
  },
} as const;

export const manifestOption = (defaultFile: string) =>
  ({
    manifest: {
      type: 'string',
      default: defaultFile,
      describe: 'the Deployment addr-server and its Service, as Skaffold deploys them',
      coerce: (file: string): Manifests => loadManifests(file),
    },
  }) as const;

/** --scenario FILE, or the name of a built-in one (scenarios/NAME.yml beside the lab). */
export const scenarioOption = (builtIn: (name: string) => string, defaultName: string, describe: string) =>
  ({
    scenario: {
      type: 'string',
      default: defaultName,
      describe,
      coerce: (value: string): Scenario =>
        loadScenario(/^[a-z][a-z0-9-]*$/.test(value) && !existsSync(value) ? builtIn(`scenarios/${value}.yml`) : value),
    },
  }) as const;

export const meshBalancerOption = {
  'mesh-balancer': {
    choices: BALANCERS,
    default: 'round-robin' as BalancerName,
    describe: "how the mesh picks a pod per request: in turn, or Linkerd's power-of-two-choices over latency",
  },
} as const;

export const intervalOption = <D extends number | undefined>(
  defaultMs: D,
  describe = "milliseconds between each client's calls (one in flight at a time)",
) => ({ interval: numberOption('interval', { ...kinds.ms, min: 10 }, describe, defaultMs) }) as const;

export const phaseSecondsOption = {
  'phase-seconds': numberOption(
    'phase-seconds',
    { min: 1, max: 600, noun: 'a whole number of seconds' },
    "count every phase this long instead of the scenario's own lengths",
    undefined,
  ),
} as const;

/** A file the command writes: its folder must be there. */
const writableFile = (flag: string) => (file: string) => {
  if (file === '' || !existsSync(dirname(resolve(file)))) throw new Error(`--${flag}: no such folder for ${file}`);
  return file;
};

export const jsonOption = (describe: string) =>
  ({ json: { type: 'string', describe, coerce: writableFile('json') } }) as const;

export const htmlOption = (describe: string) =>
  ({ html: { type: 'string', describe, coerce: writableFile('html') } }) as const;

export const strategiesDirOption = (defaultDir: string) =>
  ({
    'strategies-dir': {
      type: 'string',
      default: defaultDir,
      describe:
        "the strategies' manifests, a folder each (l4, l4-age, aged, dns, …) as the kit's k8s/strategies has them",
      coerce: (dir: string) => {
        if (!existsSync(dir)) throw new Error(`--strategies-dir: no such folder ${dir}`);
        return dir;
      },
    },
  }) as const;

/** --strategies LIST: names from `choices`, comma-separated; `none` allowed when `allowNone`. */
export const strategiesOption = (
  choices: readonly string[],
  defaultValue: string | undefined,
  describe: string,
  allowNone = false,
) =>
  ({
    strategies: {
      type: 'string',
      default: defaultValue,
      describe,
      coerce: (value: string | undefined): string[] | undefined => {
        if (value === undefined) return undefined;
        const names = value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean);
        if (allowNone && names.length === 1 && names[0] === 'none') return [];
        const unknown = names.filter((name) => !choices.includes(name));
        if (names.length === 0 || unknown.length > 0) {
          throw new Error(
            `--strategies: unknown ${unknown.join(', ') || '(none given)'}; choose from ${choices.join(', ')}`,
          );
        }
        return names;
      },
    },
  }) as const;
