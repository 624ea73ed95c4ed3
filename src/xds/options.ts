// xds-control-plane's options, from its command line and from ADDR_XDS_<OPTION> variables (the command
// line wins), parsed by a pure function: the options or the help text out, a UsageError thrown for a bad
// line. Nothing is printed, nothing exits.
import {
  commandOf,
  errorText,
  kinds,
  numberOption,
  optionsFromEnv,
  parseCommand,
  UsageError,
  type Parsed,
} from '../common/cli.js';
import { stdinLifelineOption } from '../common/shutdown.js';
import { parseK8sPath } from '../clients/k8s-target.js';

export const ENV_PREFIX = 'ADDR_XDS';

export interface ControlPlaneOptions {
  /** the Service whose EndpointSlices list the pods; also the name clients dial (xds:///SERVICE) */
  service: string;
  /** undefined: the kubeconfig context's namespace (in a pod: its own), else "default" */
  namespace: string | undefined;
  /** the pods' port: a number, or the name of a Service port */
  endpointPort: number | string;
  host: string;
  adsPort: number;
  exitOnStdinClose: boolean;
}

const USAGE = `$0 [options]

Serves proxyless gRPC clients (xds:///SERVICE) the ready pods of a Kubernetes
Service over ADS (xDS v3, state of the world): a Listener, a RouteConfiguration,
an EDS Cluster and its ClusterLoadAssignment, pushed again on every change of
the Service's EndpointSlices, which it lists and watches through the Kubernetes
API. The clients then balance each call over the pods themselves.

The API is the one KUBECONFIG names, else ~/.kube/config, else the pod's own
(in-cluster: its service account, which needs get, list and watch on
endpointslices in the namespace). Health (grpc.health.v1) on the same port says
SERVING once the slices have been listed.

Every option can also be set as ADDR_XDS_<OPTION>, e.g. ADDR_XDS_ADS_PORT=18000;
the command line wins.`;

const options = {
  service: {
    type: 'string',
    requiresArg: true,
    default: 'addr-server',
    describe: 'the Service whose ready pods clients get; clients dial xds:///SERVICE',
  },
  namespace: {
    type: 'string',
    requiresArg: true,
    describe: "the Service's namespace (default: the kubeconfig context's; in a pod, its own)",
  },
  'endpoint-port': {
    type: 'string',
    requiresArg: true,
    default: 'grpc',
    describe: "the pods' port clients call: the name of a Service port, or the pods' port number",
  },
  host: { type: 'string', requiresArg: true, default: '0.0.0.0', describe: 'address to serve ADS on' },
  'ads-port': numberOption('ads-port', kinds.port, 'port to serve ADS on (0: any free port)', 18000, ENV_PREFIX),
  ...stdinLifelineOption,
} as const;

export function parseControlPlaneArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed<ControlPlaneOptions> {
  const parser = commandOf('xds-control-plane', USAGE, argv)
    .options(options)
    .config(optionsFromEnv(ENV_PREFIX, options, env))
    .strictCommands()
    .check((values) => {
      if ((values._ as unknown[]).length > 0) throw new Error(`unexpected argument ${String(values._[0])}`);
      return true;
    });
  const parsed = parseCommand(parser, argv);
  if ('help' in parsed) return parsed;
  const values = parsed.options;
  const service = String(values.service).trim();
  const namespace = values.namespace === undefined ? undefined : String(values.namespace).trim();
  const host = String(values.host).trim();
  if (host === '') throw new UsageError('--host must not be empty');
  if (service.includes('.')) {
    throw new UsageError(`--service takes a Service's name, not "${service}": give its namespace with --namespace`);
  }
  let target;
  try {
    // The same names a k8s:/// target takes: SERVICE[.NAMESPACE]:PORT.
    target = parseK8sPath(
      `${service}${namespace === undefined ? '' : `.${namespace}`}:${String(values['endpoint-port'])}`,
    );
  } catch (error) {
    throw new UsageError(errorText(error));
  }
  return {
    options: {
      service: target.service,
      namespace: target.namespace,
      endpointPort: target.port,
      host,
      adsPort: values['ads-port'] as number,
      exitOnStdinClose: values['exit-on-stdin-close'] === true,
    },
  };
}
