// Kubernetes answers every error with a `Status` object; clients (kubectl, client-go, client-node) read
// its reason and code, so the lab's API fails the same way and never with a bare text or a stack trace.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An error the API answers with a Status; the store throws these too, so controllers see the same errors. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  get status(): Status {
    return statusOf(this.code, this.reason, this.message, this.details);
  }
}

export function statusOf(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  return {
    apiVersion: 'v1',
    kind: 'Status',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details && { details }),
    code,
  };
}

/** `pods "x" not found`, `deployments.apps "x" not found`: how the API server names a resource. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource });

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

/** 422: what `kubectl` prints as `The Deployment "x" is invalid: spec.replicas: Invalid value: …`. */
export function invalid(kind: string, group: string, name: string, field: string, message: string): ApiError {
  const what = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${field}: ${message}`, {
    name,
    group,
    kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}
