// Errors the kit's parts throw as data, for the commands to turn into words: the part that hit a taken
// port does not know which flag set it; the command that chose the port does.

/** A port this process could not listen on because another one holds it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    /** what was to listen there, e.g. "the Service's gRPC NodePort" */
    readonly what: string,
    readonly host = '127.0.0.1',
    options?: ErrorOptions,
  ) {
    super(`port ${port} (${what}) is already in use on ${host}`, options);
  }
}

export const isAddressInUse = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
