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
  | 'Timeout'
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

/** 409: another writer changed the object since the client read it (the resourceVersion it sent is stale). */
export const conflict = (resource: string, group: string, name: string) =>
  new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: resource },
  );

/** One finding of a validation, as apimachinery's field.Error carries it (pkg/util/validation/field/errors.go). */
export interface FieldError {
  type:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueForbidden'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong';
  field: string;
  /** the offending value, shown in the message; absent for the types that show none */
  value?: unknown;
  detail: string;
}

export const fieldErrors = {
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    value,
    detail,
  }),
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  notSupported: (field: string, value: unknown, valid: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail: `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value, detail: '' }),
  tooLong: (field: string, maxBytes: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    detail: `may not be more than ${maxBytes} bytes`,
  }),
};

const TYPE_TEXT: Record<FieldError['type'], string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
};

/** field.Error.ErrorBody: `Invalid value: "x": detail`; numbers and booleans bare, strings quoted, the rest JSON. */
function errorBody(error: FieldError): string {
  let text = TYPE_TEXT[error.type];
  if ('value' in error) {
    const { value } = error;
    text += `: ${typeof value === 'number' || typeof value === 'boolean' ? String(value) : (JSON.stringify(value) ?? 'null')}`;
  }
  return error.detail ? `${text}: ${error.detail}` : text;
}

/**
 * 422 Invalid for an object that fails validation, as errors.NewInvalid words it (apimachinery
 * pkg/api/errors/errors.go): `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: …`, the
 * findings in brackets when there are several. kubectl prints the message after "The ".
 */
export function invalidObject(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const lines = [...new Set(errors.map((error) => `${error.field}: ${errorBody(error)}`))];
  const what = group ? `${kind}.${group}` : kind;
  const message = `${what} "${name}" is invalid: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`;
  return new ApiError(422, 'Invalid', message, {
    name,
    group,
    kind,
    causes: errors.map((error) => ({ reason: error.type, message: errorBody(error), field: error.field })),
  });
}
