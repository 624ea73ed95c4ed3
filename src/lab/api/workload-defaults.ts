// The defaults the API server gives a Deployment and a ReplicaSet and their pod template on every write, from
// any client (kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_Deployment and SetDefaults_ReplicaSet,
// pkg/apis/core/v1/defaults.go SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Probe,
// SetDefaults_HTTPGetAction, SetDefaults_ObjectFieldSelector), and the shape its typed encoding gives a
// spec: no nulls (an unset field is absent), `resources: {}` on every container. Defaulting is idempotent, so
// the same template written twice, by a controller or by `kubectl rollout undo`, is the same template.
import { isObject } from './json.js';

type Obj = Record<string, unknown>;

/** A copy of `value` without its null map values (Go decodes null into the zero value, which it omits). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, withoutNulls(child)]),
  );
}

function setDefault(object: Obj, key: string, value: unknown): void {
  if (object[key] === undefined || object[key] === '') object[key] = value;
}

/** parseImageName's tag: `addr-server` and `addr-server:latest` → latest, `x@sha256:…` → none. */
function imageTag(image: string): string {
  const [name = '', digest] = image.split('@');
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (last.includes(':')) return last.slice(last.indexOf(':') + 1);
  return digest ? '' : 'latest';
}

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  // int32 fields, not pointers: 0 is "unset" and takes the default too.
  const defaults = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 };
  for (const [key, value] of Object.entries(defaults)) if (!probe[key]) probe[key] = value;
  if (isObject(probe.httpGet)) {
    setDefault(probe.httpGet, 'path', '/');
    setDefault(probe.httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(container: unknown): void {
  if (!isObject(container)) return;
  if (typeof container.image === 'string')
    setDefault(container, 'imagePullPolicy', imageTag(container.image) === 'latest' ? 'Always' : 'IfNotPresent');
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  // Container.Resources is a struct without omitempty: the API server's JSON always carries it.
  setDefault(container, 'resources', {});
  if (Array.isArray(container.ports))
    for (const port of container.ports) if (isObject(port)) setDefault(port, 'protocol', 'TCP');
  if (Array.isArray(container.env))
    for (const variable of container.env)
      if (isObject(variable) && isObject(variable.valueFrom) && isObject(variable.valueFrom.fieldRef))
        setDefault(variable.valueFrom.fieldRef, 'apiVersion', 'v1');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(container[probe]);
}

function defaultPodTemplate(template: unknown): void {
  if (!isObject(template) || !isObject(template.spec)) return;
  const spec = template.spec;
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['initContainers', 'containers'])
    if (Array.isArray(spec[list])) (spec[list] as unknown[]).forEach(defaultContainer);
}

/** The spec of a Deployment as the API server stores it: replicas 1, RollingUpdate 25 %/25 %, 10 revisions. */
export function defaultDeploymentSpec(spec: unknown): Obj {
  const result = (isObject(spec) ? withoutNulls(spec) : {}) as Obj;
  setDefault(result, 'replicas', 1);
  if (!isObject(result.strategy)) result.strategy = {};
  const strategy = result.strategy as Obj;
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    if (!isObject(strategy.rollingUpdate)) strategy.rollingUpdate = {};
    setDefault(strategy.rollingUpdate as Obj, 'maxUnavailable', '25%');
    setDefault(strategy.rollingUpdate as Obj, 'maxSurge', '25%');
  }
  setDefault(result, 'revisionHistoryLimit', 10);
  setDefault(result, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(result.template);
  return result;
}

/** The spec of a ReplicaSet as the API server stores it: replicas 1, its pod template defaulted. */
export function defaultReplicaSetSpec(spec: unknown): Obj {
  const result = (isObject(spec) ? withoutNulls(spec) : {}) as Obj;
  setDefault(result, 'replicas', 1);
  defaultPodTemplate(result.template);
  return result;
}
