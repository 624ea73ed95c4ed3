// Why the server could not start, in one line a person can act on (never a stack trace), and the exit
// code: the one place that words these errors. Where they happen, only the facts are thrown.
import { errorText } from '../common/cli.js';

/** A listener could not bind: which one, where, and the system's error (EADDRINUSE, EACCES, …). */
export class ListenError extends Error {
  constructor(
    readonly listener: 'HTTP' | 'gRPC',
    readonly host: string,
    readonly port: number,
    readonly reason: unknown,
  ) {
    super(`${listener} ${host}:${port}: ${errorText(reason)}`);
  }
}

export const EXIT_START_FAILED = 1;

export function startFailure(error: unknown): { line: string; exitCode: number } {
  return { line: `server: ${words(error)}`, exitCode: EXIT_START_FAILED };
}

function words(error: unknown): string {
  if (!(error instanceof ListenError)) return `cannot start: ${errorText(error)}`;
  const { listener, host, port } = error;
  const code = (error.reason as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `${listener} port ${port} is already in use on ${host}`;
    case 'EACCES':
      return `${listener} port ${port}: permission denied (ports below 1024 need privileges)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot bind ${listener} to host ${host}: no such address here`;
    default:
      return `cannot listen for ${listener} on ${host.includes(':') ? `[${host}]` : host}:${port}: ${errorText(error.reason)}`;
  }
}
