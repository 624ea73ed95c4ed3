// client-grpc's command line, parsed as a pure function: argv and the environment in, the options (or the
// help text) out, a UsageError thrown for a bad line. Nothing is printed, nothing exits.
import * as grpc from '@grpc/grpc-js';
import { commandOf, errorText, kinds, numberOption, parseCommand, UsageError, type Parsed } from '../common/cli.js';
import { callOptions, loopOptionsOf, type LoopOptions } from './call-options.js';
import { parseK8sTarget } from './k8s-target.js';
import type { ChannelOptions } from './addr-channel.js';

export interface ClientGrpcOptions extends LoopOptions, ChannelOptions {
  target: string;
  /** The target's scheme, lower case ('dns', 'k8s', 'xds', …); undefined for a bare host:port. */
  scheme: string | undefined;
}

const SCHEMES = ['dns', 'ipv4', 'ipv6', 'unix', 'unix-abstract', 'k8s', 'xds'];

const USAGE = `$0 TARGET [options]

Calls addr.Addr/GetAddr on TARGET in a loop and prints "#N: <ip>" for each
reply, "Error: <message>" for each failed call. One call at a time, --interval
apart; with --rate, calls start on a schedule and overlap.

TARGET is any grpc-js target:
  localhost:30051, dns:///addr-server:30051, ipv4:10.0.0.1:30051,10.0.0.2:30051
  k8s:///addr-server.grpc-lb:grpc   the ready pods of a Service, from its
                                    EndpointSlices (see README)
  xds:///addr-server                proxyless: a control plane named by
                                    GRPC_XDS_BOOTSTRAP or GRPC_XDS_BOOTSTRAP_CONFIG`;

const KEEPALIVE_NOTE = `Keepalive: with the defaults a pod that hangs (stopped, cut off) is found
within 3 s (--keepalive-ms + --keepalive-timeout-ms), before a call's 5 s
deadline; its calls fail UNAVAILABLE and the channel reconnects. Servers in Go
or on gRPC core (C++, Python, Ruby, ...) allow one ping per 5 min while they
send nothing back: a ping sooner is a strike, and at the third strike they
close the connection (GOAWAY too_many_pings), after which grpc-js doubles
--keepalive-ms for that server. A server that answers calls in between never
strikes; grpc-js servers (the addr-server) do not count pings.`;

const options = {
  ...callOptions,
  lb: {
    choices: ['pick_first', 'round_robin'] as const,
    defaultDescription: 'round_robin for k8s: targets, else pick_first',
    describe: 'load-balancing policy over the addresses TARGET resolves to',
  },
  'service-config': {
    type: 'string',
    describe:
      'a gRPC service config (JSON) for the channel; its loadBalancingConfig replaces --lb, e.g. ' +
      '{"loadBalancingConfig":[{"outlier_detection":{"child_policy":[{"round_robin":{}}],…}}]}',
  },
  'keepalive-ms': numberOption(
    'keepalive-ms',
    kinds.ms,
    'while calls are in flight, ping the server this often (0: never; see Keepalive below)',
    2000,
  ),
  'keepalive-timeout-ms': numberOption(
    'keepalive-timeout-ms',
    kinds.positiveMs,
    'a ping unanswered this long closes the connection',
    1000,
  ),
  'connect-timeout-ms': numberOption(
    'connect-timeout-ms',
    kinds.positiveMs,
    'a channel still connecting after this long (to a pod that accepts the connection and never answers) is ' +
      "replaced by a new one; 20 s is gRPC's MIN_CONNECT_TIMEOUT",
    20_000,
  ),
} as const;

export function parseClientGrpcArgs(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed<ClientGrpcOptions> {
  const parser = commandOf('client-grpc', USAGE, argv)
    .positional('TARGET', { type: 'string', describe: 'where to call' })
    .options(options)
    .demandCommand(1, 1, 'TARGET is missing', 'give exactly one TARGET')
    .epilogue(KEEPALIVE_NOTE);
  const parsed = parseCommand(parser, argv);
  if ('help' in parsed) return parsed;
  const values = parsed.options;

  const target = String((values._ as unknown[])[0]);
  // grpc-js would take an unknown scheme for a DNS name and fail on every call; say so now instead.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1]?.toLowerCase();
  if (scheme !== undefined && !SCHEMES.includes(scheme)) {
    throw new UsageError(
      `unknown scheme "${scheme}:" in TARGET ${target} (use dns:, ipv4:, ipv6:, unix:, k8s: or xds:)`,
    );
  }
  // xds: proxyless gRPC needs a bootstrap naming its control plane.
  if (scheme === 'xds' && !env.GRPC_XDS_BOOTSTRAP && !env.GRPC_XDS_BOOTSTRAP_CONFIG) {
    throw new UsageError(
      'an xds: TARGET needs GRPC_XDS_BOOTSTRAP (a file) or GRPC_XDS_BOOTSTRAP_CONFIG (JSON) naming the control plane',
    );
  }
  if (scheme === 'k8s') {
    try {
      parseK8sTarget(target);
    } catch (error) {
      throw new UsageError(`bad TARGET: ${errorText(error)}`);
    }
  }
  const serviceConfig = values['service-config'] as string | undefined;
  if (serviceConfig !== undefined) checkServiceConfig(serviceConfig, scheme);
  return {
    options: {
      ...loopOptionsOf(values),
      ...(serviceConfig !== undefined && { serviceConfig }),
      target,
      scheme,
      // Balancing over every pod is the point of k8s:, so round_robin unless --lb says otherwise.
      lb: (values.lb as ClientGrpcOptions['lb'] | undefined) ?? (scheme === 'k8s' ? 'round_robin' : 'pick_first'),
      keepaliveMs: values['keepalive-ms'] as number,
      keepaliveTimeoutMs: values['keepalive-timeout-ms'] as number,
      connectTimeoutMs: values['connect-timeout-ms'] as number,
    },
  };
}

/**
 * grpc-js takes a service config whose policy it cannot parse for none at all and falls back to
 * pick_first without a word (resolving-load-balancer.ts): refuse it here instead, with grpc-js's own
 * reason. (xds: targets bring policies of the xDS plugin, which is not loaded yet: those pass.)
 */
function checkServiceConfig(text: string, scheme: string | undefined): void {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--service-config is not JSON: ${errorText(error)}`);
  }
  const policies = (config as { loadBalancingConfig?: unknown } | null)?.loadBalancingConfig;
  if (typeof config !== 'object' || config === null || !Array.isArray(policies) || policies.length === 0) {
    throw new UsageError(
      '--service-config must be an object with a loadBalancingConfig list, as gRPC service configs are',
    );
  }
  if (scheme === 'xds') return;
  try {
    for (const policy of policies)
      grpc.experimental.parseLoadBalancingConfig(
        policy as Parameters<typeof grpc.experimental.parseLoadBalancingConfig>[0],
      );
  } catch (error) {
    throw new UsageError(`--service-config: grpc-js cannot use its loadBalancingConfig: ${errorText(error)}`);
  }
}
