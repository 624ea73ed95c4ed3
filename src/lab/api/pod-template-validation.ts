// A Deployment's pod template, checked as the API server checks it (kubernetes pkg/apis/core/validation
// ValidatePodTemplateSpec and ValidatePodSpec, and apps ValidatePodTemplateSpecForReplicaSet) in the parts
// the lab's pods are made of: labels and annotations, containers (names, images, ports, env, probes),
// restartPolicy Always, no activeDeadlineSeconds, a grace period. Values of the wrong JSON type are findings
// too: the API server would not decode them, and the lab's controllers may rely on the shapes checked here.
import { isObject } from './json.js';
import { isDNS1123Label, validateAnnotations, validateLabels } from './meta-validation.js';
import { fieldErrors, type FieldError } from './status.js';

type Obj = Record<string, unknown>;

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

function nonNegative(value: unknown, field: string, errors: FieldError[]): void {
  if (value === undefined) return;
  if (!isInteger(value)) errors.push(fieldErrors.invalid(field, value, 'must be an integer'));
  else if (value < 0) errors.push(fieldErrors.invalid(field, value, 'must be greater than or equal to 0'));
}

function portNumber(value: unknown, field: string, errors: FieldError[]): void {
  if (!isInteger(value) || value < 1 || value > 65535)
    errors.push(fieldErrors.invalid(field, value, 'must be between 1 and 65535, inclusive'));
}

/** IsValidPortName: an IANA_SVC_NAME (RFC 6335), the names Services and probes refer to ports by. */
function portName(value: unknown, field: string, errors: FieldError[]): void {
  if (typeof value !== 'string') return void errors.push(fieldErrors.invalid(field, value, 'must be a string'));
  const messages = [
    value.length > 15 && 'must be no more than 15 characters',
    !/^[-a-z0-9]+$/.test(value) && 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    value.includes('--') && 'must not contain consecutive hyphens',
    !/[a-z]/.test(value) && 'must contain at least one letter (a-z)',
    (value.startsWith('-') || value.endsWith('-')) && 'must not begin or end with a hyphen',
  ];
  for (const message of messages) if (message) errors.push(fieldErrors.invalid(field, value, message));
}

/** A probe's port: a number, or the name of one of the container's ports. */
function probePort(value: unknown, field: string, errors: FieldError[]): void {
  if (typeof value === 'string') portName(value, field, errors);
  else portNumber(value, field, errors);
}

function stringList(value: unknown, field: string, errors: FieldError[]): void {
  if (value !== undefined && (!Array.isArray(value) || value.some((item) => typeof item !== 'string')))
    errors.push(fieldErrors.invalid(field, value, 'must be a list of strings'));
}

const FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

/** The downward API fields an env var may carry (validateObjectFieldSelector for env). */
function fieldPath(value: unknown, field: string, errors: FieldError[]): void {
  if (typeof value === 'string' && /^metadata\.(labels|annotations)\['[^']+'\]$/.test(value)) return;
  if (typeof value !== 'string' || !FIELD_PATHS.includes(value))
    errors.push(
      fieldErrors.notSupported(field, value, [
        ...FIELD_PATHS,
        "metadata.annotations['<KEY>']",
        "metadata.labels['<KEY>']",
      ]),
    );
}

const ENV_SOURCES = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'];

function validateEnv(env: unknown, field: string, errors: FieldError[]): void {
  if (env === undefined) return;
  if (!Array.isArray(env)) return void errors.push(fieldErrors.invalid(field, env, 'must be a list'));
  env.forEach((variable: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(variable)) return errors.push(fieldErrors.invalid(at, variable, 'must be an object'));
    const { name, value, valueFrom } = variable;
    if (name === undefined || name === '') errors.push(fieldErrors.required(`${at}.name`));
    // RelaxedEnvironmentVariableValidation (on by default since 1.32): any printable ASCII but '='.
    else if (typeof name !== 'string' || !/^[\x20-\x3c\x3e-\x7e]+$/.test(name))
      errors.push(
        fieldErrors.invalid(
          `${at}.name`,
          name,
          "a valid environment variable name must consist only of printable ASCII characters other than '='",
        ),
      );
    if (value !== undefined && typeof value !== 'string')
      errors.push(fieldErrors.invalid(`${at}.value`, value, 'must be a string'));
    if (valueFrom === undefined) return;
    if (!isObject(valueFrom))
      return errors.push(fieldErrors.invalid(`${at}.valueFrom`, valueFrom, 'must be an object'));
    if (typeof value === 'string' && value !== '')
      errors.push(fieldErrors.invalid(`${at}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    const sources = ENV_SOURCES.filter((source) => valueFrom[source] !== undefined);
    if (sources.length === 0)
      errors.push(
        fieldErrors.invalid(`${at}.valueFrom`, '', `must specify one of: \`${ENV_SOURCES.slice(0, 4).join('`, `')}\``),
      );
    else if (sources.length > 1)
      errors.push(fieldErrors.invalid(`${at}.valueFrom`, '', 'may not have more than one field specified at a time'));
    if (isObject(valueFrom.fieldRef))
      fieldPath(valueFrom.fieldRef.fieldPath, `${at}.valueFrom.fieldRef.fieldPath`, errors);
  });
}

function validatePorts(ports: unknown, field: string, errors: FieldError[]): void {
  if (ports === undefined) return;
  if (!Array.isArray(ports)) return void errors.push(fieldErrors.invalid(field, ports, 'must be a list'));
  const names = new Set<unknown>();
  ports.forEach((port: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(port)) return errors.push(fieldErrors.invalid(at, port, 'must be an object'));
    if (port.name !== undefined) {
      portName(port.name, `${at}.name`, errors);
      if (names.has(port.name)) errors.push(fieldErrors.duplicate(`${at}.name`, port.name));
      names.add(port.name);
    }
    if (port.containerPort === undefined) errors.push(fieldErrors.required(`${at}.containerPort`));
    else portNumber(port.containerPort, `${at}.containerPort`, errors);
    if (port.hostPort !== undefined && port.hostPort !== 0) portNumber(port.hostPort, `${at}.hostPort`, errors);
    if (!['TCP', 'UDP', 'SCTP'].includes(port.protocol as string))
      errors.push(fieldErrors.notSupported(`${at}.protocol`, port.protocol, ['SCTP', 'TCP', 'UDP']));
  });
}

const HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

function validateProbe(probe: unknown, field: string, errors: FieldError[]): void {
  if (probe === undefined) return;
  if (!isObject(probe)) return void errors.push(fieldErrors.invalid(field, probe, 'must be an object'));
  const handlers = HANDLERS.filter((handler) => probe[handler] !== undefined);
  if (handlers.length === 0) errors.push(fieldErrors.required(field, 'must specify a handler type'));
  if (handlers.length > 1)
    errors.push(fieldErrors.forbidden(`${field}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const key of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'])
    nonNegative(probe[key], `${field}.${key}`, errors);
  const { httpGet, tcpSocket, grpc, exec } = probe;
  if (httpGet !== undefined) {
    if (!isObject(httpGet)) errors.push(fieldErrors.invalid(`${field}.httpGet`, httpGet, 'must be an object'));
    else {
      probePort(httpGet.port, `${field}.httpGet.port`, errors);
      if (!['HTTP', 'HTTPS'].includes(httpGet.scheme as string))
        errors.push(fieldErrors.notSupported(`${field}.httpGet.scheme`, httpGet.scheme, ['HTTP', 'HTTPS']));
    }
  }
  if (tcpSocket !== undefined) {
    if (!isObject(tcpSocket)) errors.push(fieldErrors.invalid(`${field}.tcpSocket`, tcpSocket, 'must be an object'));
    else probePort(tcpSocket.port, `${field}.tcpSocket.port`, errors);
  }
  if (grpc !== undefined) {
    if (!isObject(grpc)) errors.push(fieldErrors.invalid(`${field}.grpc`, grpc, 'must be an object'));
    else portNumber(grpc.port, `${field}.grpc.port`, errors);
  }
  if (exec !== undefined) {
    if (!isObject(exec)) errors.push(fieldErrors.invalid(`${field}.exec`, exec, 'must be an object'));
    else stringList(exec.command, `${field}.exec.command`, errors);
  }
}

function validateContainers(list: unknown, field: string, names: Set<string>, errors: FieldError[]): void {
  if (!Array.isArray(list)) return void errors.push(fieldErrors.invalid(field, list, 'must be a list'));
  list.forEach((container: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(container)) return errors.push(fieldErrors.invalid(at, container, 'must be an object'));
    const { name, image } = container;
    if (name === undefined || name === '') errors.push(fieldErrors.required(`${at}.name`));
    else if (typeof name !== 'string') errors.push(fieldErrors.invalid(`${at}.name`, name, 'must be a string'));
    else {
      for (const message of isDNS1123Label(name)) errors.push(fieldErrors.invalid(`${at}.name`, name, message));
      if (names.has(name)) errors.push(fieldErrors.duplicate(`${at}.name`, name));
      names.add(name);
    }
    if (image === undefined || image === '') errors.push(fieldErrors.required(`${at}.image`));
    else if (typeof image !== 'string' || image.trim() !== image)
      errors.push(fieldErrors.invalid(`${at}.image`, image, 'must not have leading or trailing whitespace'));
    stringList(container.command, `${at}.command`, errors);
    stringList(container.args, `${at}.args`, errors);
    validatePorts(container.ports, `${at}.ports`, errors);
    validateEnv(container.env, `${at}.env`, errors);
    if (container.resources !== undefined && !isObject(container.resources))
      errors.push(fieldErrors.invalid(`${at}.resources`, container.resources, 'must be an object'));
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      validateProbe(container[probe], `${at}.${probe}`, errors);
  });
}

/** The findings on a (defaulted) pod template of a Deployment or ReplicaSet at `field` (`spec.template`). */
export function validatePodTemplate(template: unknown, field: string): FieldError[] {
  if (!isObject(template)) return [fieldErrors.required(field)];
  const errors: FieldError[] = [];
  const metadata = (template.metadata ?? {}) as Obj;
  if (!isObject(metadata)) errors.push(fieldErrors.invalid(`${field}.metadata`, metadata, 'must be an object'));
  else {
    errors.push(...validateLabels(metadata.labels, `${field}.labels`));
    errors.push(...validateAnnotations(metadata.annotations, `${field}.annotations`));
  }
  const spec = template.spec;
  if (!isObject(spec)) return [...errors, fieldErrors.required(`${field}.spec`)];
  const at = `${field}.spec`;
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || !spec.containers.length) errors.push(fieldErrors.required(`${at}.containers`));
  else validateContainers(spec.containers, `${at}.containers`, names, errors);
  if (spec.initContainers !== undefined) validateContainers(spec.initContainers, `${at}.initContainers`, names, errors);
  if (spec.restartPolicy !== 'Always')
    errors.push(fieldErrors.notSupported(`${at}.restartPolicy`, spec.restartPolicy, ['Always']));
  if (spec.activeDeadlineSeconds !== undefined)
    errors.push(
      fieldErrors.forbidden(`${at}.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicaSet is not Supported'),
    );
  nonNegative(spec.terminationGracePeriodSeconds, `${at}.terminationGracePeriodSeconds`, errors);
  if (!['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'].includes(spec.dnsPolicy as string))
    errors.push(
      fieldErrors.notSupported(`${at}.dnsPolicy`, spec.dnsPolicy, [
        'ClusterFirstWithHostNet',
        'ClusterFirst',
        'Default',
        'None',
      ]),
    );
  return errors;
}
