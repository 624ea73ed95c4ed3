// The one place where a failure to start becomes words: a taken port names the flag that moves it (the
// parts that listen do not know which flag chose their port; the command does).
import { errorText } from '../../common/cli.js';
import { PortInUseError } from '../../common/errors.js';

/** The flags that set the ports a command listens on, by the port each asked for. */
export type PortFlags = ReadonlyArray<{ port: number; flag: string }>;

export function startFailure(error: unknown, flags: PortFlags): string {
  if (error instanceof PortInUseError) {
    const flag = flags.find((candidate) => candidate.port === error.port && candidate.port !== 0)?.flag;
    return `port ${error.port} (${error.what}) is already in use on ${error.host} — another lab?${flag ? ` Change it with ${flag}` : ''}`;
  }
  return errorText(error);
}

/** The ports of the emulated cluster every lab command starts, by the flag that sets each. */
export const clusterPortFlags = (ports: { api: number; http: number; grpc: number; mesh: number }): PortFlags => [
  { port: ports.api, flag: '--api-port' },
  { port: ports.http, flag: '--http-node-port' },
  { port: ports.grpc, flag: '--grpc-node-port' },
  { port: ports.mesh, flag: '--mesh-port' },
];
