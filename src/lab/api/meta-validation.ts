// The API server's checks on object metadata and label selectors, with its messages: label keys and
// annotation keys are qualified names, label values are short and plain, annotations are at most 256 KiB
// together (apimachinery pkg/api/validate/content/kube.go and dns.go, pkg/util/validation/validation.go,
// pkg/api/validation/objectmeta.go, pkg/apis/meta/v1/validation/validation.go).
import { isObject } from './json.js';
import { fieldErrors, type FieldError } from './status.js';

const bytes = (value: string) => Buffer.byteLength(value, 'utf8');

/** content.RegexError: the message, the examples, then the expression. */
function regexError(message: string, expression: string, ...examples: string[]): string {
  if (!examples.length) return `${message} (regex used for validation is '${expression}')`;
  return `${message} (e.g. ${examples.map((example) => `'${example}', `).join(' or ')}regex used for validation is '${expression}')`;
}

const maxLenError = (length: number) => `must be no more than ${length} bytes`;

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const dns1123Label = new RegExp(`^${DNS1123_LABEL}$`);
const dns1123Subdomain = new RegExp(`^${DNS1123_SUBDOMAIN}$`);

/** IsDNS1123Subdomain: what object names (a Deployment's) and label key prefixes must be. */
export function isDNS1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (bytes(value) > 253) errors.push(maxLenError(253));
  if (!dns1123Subdomain.test(value))
    errors.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN,
        'example.com',
      ),
    );
  return errors;
}

/** IsDNS1123Label: what container names must be. */
export function isDNS1123Label(value: string): string[] {
  const errors: string[] = [];
  if (bytes(value) > 63) errors.push(maxLenError(63));
  if (!dns1123Label.test(value)) {
    errors.push(
      dns1123Subdomain.test(value)
        ? 'must not contain dots'
        : regexError(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL,
            'my-name',
            '123-abc',
          ),
    );
  }
  return errors;
}

const LABEL_KEY = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelKeyName = new RegExp(`^${LABEL_KEY}$`);
const LABEL_KEY_MESSAGE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** IsLabelKey (IsQualifiedName): `name` or `prefix/name`, the prefix a DNS subdomain, the name at most 63 bytes. */
export function isQualifiedName(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a valid label key ${regexError(LABEL_KEY_MESSAGE, LABEL_KEY, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts.at(-1) as string;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (!prefix) errors.push('prefix part must be non-empty');
    else errors.push(...isDNS1123Subdomain(prefix).map((message) => `prefix part ${message}`));
  }
  if (!name) errors.push('name part must be non-empty');
  else if (bytes(name) > 63) errors.push(`name part ${maxLenError(63)}`);
  if (!labelKeyName.test(name))
    errors.push(`name part ${regexError(LABEL_KEY_MESSAGE, LABEL_KEY, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

const LABEL_VALUE = `(${LABEL_KEY})?`;
const labelValue = new RegExp(`^${LABEL_VALUE}$`);

/** IsLabelValue: empty, or at most 63 bytes of alphanumerics, '-', '_' and '.', alphanumeric at both ends. */
export function isLabelValue(value: string): string[] {
  const errors: string[] = [];
  if (bytes(value) > 63) errors.push(maxLenError(63));
  if (!labelValue.test(value))
    errors.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  return errors;
}

/** A map of strings (labels, annotations, a selector's matchLabels), or the finding that it is not one. */
function stringMap(value: unknown, field: string): { map: Record<string, string>; errors: FieldError[] } {
  if (value === undefined || value === null) return { map: {}, errors: [] };
  if (!isObject(value)) return { map: {}, errors: [fieldErrors.invalid(field, value, 'must be a map of strings')] };
  const errors = Object.entries(value)
    .filter(([, v]) => typeof v !== 'string')
    .map(([key, v]) => fieldErrors.invalid(`${field}[${key}]`, v, 'must be a string'));
  return { map: value as Record<string, string>, errors };
}

/** ValidateLabels (meta/v1/validation). */
export function validateLabels(labels: unknown, field: string): FieldError[] {
  const { map, errors } = stringMap(labels, field);
  for (const [key, value] of Object.entries(map)) {
    for (const message of isQualifiedName(key)) errors.push(fieldErrors.invalid(field, key, message));
    if (typeof value === 'string')
      for (const message of isLabelValue(value)) errors.push(fieldErrors.invalid(field, value, message));
  }
  return errors;
}

/** TotalAnnotationSizeLimitB: 256 KiB for all keys and values together. */
export const ANNOTATIONS_MAX_BYTES = 256 * (1 << 10);

/** ValidateAnnotations (pkg/api/validation/objectmeta.go): keys are qualified names in any case; 256 KiB in all. */
export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const { map, errors } = stringMap(annotations, field);
  let size = 0;
  for (const [key, value] of Object.entries(map)) {
    for (const message of isQualifiedName(key.toLowerCase())) errors.push(fieldErrors.invalid(field, key, message));
    size += bytes(key) + (typeof value === 'string' ? bytes(value) : 0);
  }
  if (size > ANNOTATIONS_MAX_BYTES) errors.push(fieldErrors.tooLong(field, ANNOTATIONS_MAX_BYTES));
  return errors;
}

/** ValidateLabelSelector with invalid label values refused, as for a Deployment's or ReplicaSet's selector. */
export function validateLabelSelector(selector: unknown, field: string): FieldError[] {
  if (!isObject(selector)) return [fieldErrors.invalid(field, selector, 'must be a label selector')];
  const errors = validateLabels(selector.matchLabels, `${field}.matchLabels`);
  const { matchExpressions } = selector;
  if (matchExpressions === undefined || matchExpressions === null) return errors;
  if (!Array.isArray(matchExpressions))
    return [...errors, fieldErrors.invalid(`${field}.matchExpressions`, matchExpressions, 'must be a list')];
  matchExpressions.forEach((expression: unknown, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    if (!isObject(expression)) return errors.push(fieldErrors.invalid(at, expression, 'must be an object'));
    const { key, operator } = expression;
    const values = expression.values ?? [];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string'))
      return errors.push(fieldErrors.invalid(`${at}.values`, values, 'must be a list of strings'));
    if (operator === 'In' || operator === 'NotIn') {
      if (!values.length)
        errors.push(fieldErrors.required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length)
        errors.push(
          fieldErrors.forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
        );
    } else errors.push(fieldErrors.invalid(`${at}.operator`, operator, 'not a valid selector operator'));
    if (typeof key !== 'string') errors.push(fieldErrors.invalid(`${at}.key`, key, 'must be a string'));
    else for (const message of isQualifiedName(key)) errors.push(fieldErrors.invalid(`${at}.key`, key, message));
    values.forEach((value: string, j) => {
      for (const message of isLabelValue(value)) errors.push(fieldErrors.invalid(`${at}.values[${j}]`, value, message));
    });
  });
  return errors;
}
