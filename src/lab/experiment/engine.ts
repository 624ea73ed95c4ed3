// The experiment engine: runs a scenario's steps, in order, against a cluster's Kubernetes API — the
// operations a user has (scale, delete a pod, change the pod template, apply or delete a Deployment), on
// the lab's own or a real one (cluster-api.ts) — while the recorder keeps what happens. Waits are bounded,
// a count step is a phase. The one thing no API does, hanging a pod's process (SIGSTOP), is done to the
// process the pod's containerID names (the lab's kubelet names it process://PID); the engine never leaves
// a pod hung behind it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../api/store.js';
import { podIsActive, specOf, statusOf, type DeploymentSpec, type PodStatus } from '../controllers/objects.js';
import { deploymentOfPod, type ClusterApi } from './cluster-api.js';
import type { Recorder } from './recording.js';
import { stepText, type Scenario, type Step, type Which } from './scenario.js';

export interface Progress {
  event(text: string): void;
  status(text: string): void;
}

export interface EngineOptions {
  /** the server Deployments a step acts on unless it names one */
  deployments: readonly string[];
  signal: AbortSignal;
  progress: Progress;
  /** every count step lasts this long instead (short runs, tests) */
  phaseMs?: number;
  /** the random pick of `kill: random` and the like */
  random?: () => number;
}

export const FAULT_SUFFIX = '-fault';
/** The label on a fault step's Deployment and its pods, as k8s/faults' Deployments have it. */
export const FAULT_LABEL = 'grpc-lb.io/fault';

export class StepError extends Error {}

export class Engine {
  readonly #api: ClusterApi;
  readonly #recorder: Recorder;
  readonly #options: EngineOptions;
  /** pods this run hung, by name, with their process */
  readonly #hung = new Map<string, number>();

  constructor(api: ClusterApi, recorder: Recorder, options: EngineOptions) {
    this.#api = api;
    this.#recorder = recorder;
    this.#options = options;
  }

  /** Runs every step; throws a StepError naming the step when one cannot complete (or on abort). */
  async run(scenario: Scenario): Promise<void> {
    try {
      for (const step of scenario.steps) {
        this.#check();
        const from = this.#recorder.now();
        const text = stepText(step);
        if (step.action !== 'count') {
          this.#recorder.event(text);
          this.#options.progress.event(`step ${step.index}/${scenario.steps.length}: ${text}`);
        }
        await this.#step(step, scenario);
        this.#recorder.step({
          index: step.index,
          line: step.line,
          action: step.action,
          text,
          ...(step.action === 'scale' && { replicas: step.replicas }),
          from,
          to: this.#recorder.now(),
        });
      }
    } finally {
      this.#continueAll();
    }
  }

  #check(): void {
    if (this.#options.signal.aborted) throw new StepError('interrupted');
  }

  #targets(step: Step): string[] {
    return step.deployment ? [step.deployment] : [...this.#options.deployments];
  }

  async #step(step: Step, scenario: Scenario): Promise<void> {
    const api = this.#api;
    const where = `${scenario.file}:${step.line}: step ${step.index} (${step.action})`;
    switch (step.action) {
      case 'scale':
        for (const name of this.#targets(step)) {
          await this.#deployment(name, where);
          await api.updateDeployment(
            name,
            (object) => ((object.spec as unknown as DeploymentSpec).replicas = step.replicas),
          );
        }
        return;
      case 'wait': {
        // The faulty pods a fault step added are waited for too: the phase counts them from their Ready.
        const names: string[] = [];
        for (const name of this.#targets(step)) {
          names.push(name);
          if (await api.getDeployment(`${name}${FAULT_SUFFIX}`)) names.push(`${name}${FAULT_SUFFIX}`);
        }
        return this.#wait(step.until, names, step.timeoutMs, where);
      }
      case 'count':
        return this.#count(step, scenario);
      case 'pause':
        await sleep(step.ms, undefined, { signal: this.#options.signal }).catch(() => undefined);
        return;
      case 'kill':
      case 'delete':
        for (const name of this.#targets(step)) {
          const pod = await this.#pick(name, step.which, where);
          const ip = statusOf<PodStatus>(pod).podIP ?? pod.metadata.name;
          this.#recorder.event(`${step.action === 'kill' ? 'kill' : 'delete'} pod ${ip}`);
          this.#options.progress.event(
            `  ${step.action === 'kill' ? 'SIGKILL' : 'delete'} pod ${ip} (${name}, the ${step.which})`,
          );
          await api.deletePod(pod.metadata.name, step.action === 'kill' ? 0 : undefined);
        }
        return;
      case 'rollout':
        for (const name of this.#targets(step)) {
          await this.#deployment(name, where);
          // What `kubectl rollout restart` patches: an annotation of the template, so a new ReplicaSet.
          await api.updateDeployment(name, (object) => {
            const template = (object.spec as unknown as DeploymentSpec).template;
            template.metadata = {
              ...template.metadata,
              annotations: {
                ...template.metadata?.annotations,
                'kubectl.kubernetes.io/restartedAt': new Date().toISOString(),
              },
            };
          });
        }
        return;
      case 'set-env':
        for (const name of this.#targets(step)) {
          await this.#deployment(name, where);
          await api.updateDeployment(name, (object) => setEnv(object, step.env));
        }
        return;
      case 'stop':
        for (const name of this.#targets(step)) {
          const pod = await this.#pick(name, step.which, where, true);
          const pid = pidOf(pod);
          if (pid === undefined) throw new StepError(`${where}: pod ${pod.metadata.name} has no process to hang`);
          process.kill(pid, 'SIGSTOP');
          this.#hung.set(pod.metadata.name, pid);
          this.#recorder.stopped(pod.metadata.name, true);
          this.#options.progress.event(
            `  SIGSTOP pod ${statusOf<PodStatus>(pod).podIP} (${name}, the ${step.which}): it hangs`,
          );
        }
        return;
      case 'continue':
        this.#continueAll();
        return;
      case 'fault':
        for (const name of this.#targets(step)) {
          const fault = `${name}${FAULT_SUFFIX}`;
          const existing = await api.getDeployment(fault);
          if (step.options === 'off') {
            if (existing) await api.deleteDeployment(fault);
            continue;
          }
          const base = await this.#deployment(name, where);
          const object = faultDeployment(base, fault, step.options, step.replicas);
          if (existing) await api.deleteDeployment(fault);
          await api.createDeployment(object);
        }
        return;
    }
  }

  async #deployment(name: string, where: string): Promise<KubeObject> {
    const deployment = await this.#api.getDeployment(name);
    if (!deployment) throw new StepError(`${where}: no Deployment ${name} in namespace ${this.#api.namespace}`);
    return deployment;
  }

  /** A running pod of the Deployment: the oldest, the newest, or one at random. */
  async #pick(deployment: string, which: Which, where: string, readyOnly = false): Promise<KubeObject> {
    await this.#deployment(deployment, where);
    const pods = (await this.#api.listPods())
      .filter(
        (pod) =>
          podIsActive(pod) &&
          statusOf<PodStatus>(pod).phase === 'Running' &&
          !this.#hung.has(pod.metadata.name) &&
          deploymentOfPod(pod) === deployment &&
          (!readyOnly || statusOf<PodStatus>(pod).conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
      )
      .sort((a, b) => this.#createdAt(a) - this.#createdAt(b));
    if (pods.length === 0) throw new StepError(`${where}: no running pod of ${deployment} to pick`);
    const random = this.#options.random ?? Math.random;
    const pod =
      which === 'oldest' ? pods[0] : which === 'newest' ? pods.at(-1) : pods[Math.floor(random() * pods.length)];
    return pod as KubeObject;
  }

  /** When the run saw the pod created (its creationTimestamp has only seconds). */
  #createdAt(pod: KubeObject): number {
    return (
      this.#recorder.recording.pods.find((p) => p.name === pod.metadata.name)?.created ??
      Date.parse(String(pod.metadata.creationTimestamp ?? ''))
    );
  }

  async #wait(until: 'rollout' | 'ready', deployments: string[], timeoutMs: number, where: string): Promise<void> {
    const started = performance.now();
    const done = async (name: string) => {
      const object = await this.#deployment(name, where);
      const spec = specOf<DeploymentSpec>(object);
      const status = statusOf<{
        observedGeneration?: number;
        replicas?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
        readyReplicas?: number;
      }>(object);
      const desired = spec.replicas ?? 1;
      if (until === 'ready') return (status.readyReplicas ?? 0) >= desired;
      // kubectl rollout status: the spec observed, every replica updated, no old one left, all available.
      return (
        (status.observedGeneration ?? 0) >= (object.metadata.generation ?? 1) &&
        (status.updatedReplicas ?? 0) >= desired &&
        (status.replicas ?? 0) <= (status.updatedReplicas ?? 0) &&
        (status.availableReplicas ?? 0) >= (status.updatedReplicas ?? 0)
      );
    };
    const waiting = async () => {
      const left: string[] = [];
      for (const name of deployments) if (!(await done(name))) left.push(name);
      return left;
    };
    // Woken by each change of a Deployment, or every 250 ms.
    let wake: (() => void) | undefined;
    const watch = this.#api.watch('deployments', () => wake?.());
    try {
      for (let left = await waiting(); left.length > 0; left = await waiting()) {
        this.#check();
        const elapsed = performance.now() - started;
        if (elapsed > timeoutMs) {
          throw new StepError(
            `${where}: ${left.join(', ')} not ${until === 'rollout' ? 'rolled out' : 'ready'} after ${Math.round(timeoutMs / 1000)} s`,
          );
        }
        this.#options.progress.status(`waiting for ${left.join(', ')} (${until}) … ${Math.round(elapsed / 1000)} s`);
        const { signal } = this.#options;
        await new Promise<void>((resolve) => {
          const finish = () => {
            clearTimeout(timer);
            signal.removeEventListener('abort', finish);
            resolve();
          };
          const timer = setTimeout(finish, 250);
          signal.addEventListener('abort', finish, { once: true });
          wake = finish;
        });
        wake = undefined;
      }
    } finally {
      watch.stop();
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    this.#recorder.event(until === 'rollout' ? 'rollout complete' : 'pods ready');
    this.#options.progress.event(
      `  ${until === 'rollout' ? 'rollout complete' : 'ready'}: ${deployments.join(', ')} after ${seconds} s (kubectl rollout status)`,
    );
  }

  async #count(step: Extract<Step, { action: 'count' }>, scenario: Scenario): Promise<void> {
    const ms = this.#options.phaseMs ?? step.ms;
    const from = this.#recorder.now();
    this.#recorder.event(`count: ${step.phase}`);
    this.#options.progress.event(
      `step ${step.index}/${scenario.steps.length}: counting "${step.phase}" for ${ms / 1000} s`,
    );
    const end = performance.now() + ms;
    for (
      let left = end - performance.now();
      left > 0 && !this.#options.signal.aborted;
      left = end - performance.now()
    ) {
      this.#options.progress.status(`${step.phase}: counting, ${Math.ceil(left / 1000)} s left`);
      await sleep(Math.min(1000, left), undefined, { signal: this.#options.signal }).catch(() => undefined);
    }
    this.#recorder.phase({ name: step.phase, step: step.index, from, to: this.#recorder.now() });
    this.#check();
  }

  #continueAll(): void {
    for (const [name, pid] of this.#hung) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone meanwhile
      }
      this.#recorder.stopped(name, false);
    }
    if (this.#hung.size > 0)
      this.#options.progress.event(`  SIGCONT: ${this.#hung.size} hung pod${this.#hung.size === 1 ? '' : 's'} go on`);
    this.#hung.clear();
  }
}

const pidOf = (pod: KubeObject): number | undefined => {
  const id = statusOf<PodStatus>(pod).containerStatuses?.[0]?.containerID;
  const match = id ? /^process:\/\/(\d+)$/.exec(id) : undefined;
  return match ? Number(match[1]) : undefined;
};

/** kubectl set env: each variable set in every container of the template (replaced if there, else added). */
function setEnv(deployment: KubeObject, env: Record<string, string>): void {
  for (const container of (deployment.spec as unknown as DeploymentSpec).template.spec.containers) {
    const list = [...(container.env ?? [])];
    for (const [name, value] of Object.entries(env)) {
      const index = list.findIndex((variable) => variable.name === name);
      if (index === -1) list.push({ name, value });
      else list[index] = { name, value };
    }
    container.env = list;
  }
}

/**
 * The fault step's Deployment, as a user would deploy a bad pod next to a good Deployment: the same pod
 * template (so the same Service selects it) with the server's fault options set in its environment and
 * a label of its own, under a name of its own, with `replicas` pods.
 */
export function faultDeployment(
  base: KubeObject,
  name: string,
  options: Record<string, string>,
  replicas: number,
): KubeObject {
  const spec = structuredClone(specOf<DeploymentSpec>(base));
  const labels = { ...spec.template.metadata?.labels, [FAULT_LABEL]: 'true' };
  spec.template.metadata = { ...spec.template.metadata, labels };
  spec.selector = { matchLabels: { ...spec.selector.matchLabels, [FAULT_LABEL]: 'true' } };
  spec.replicas = replicas;
  const env = Object.fromEntries(
    Object.entries(options).map(([option, value]) => [
      `ADDR_SERVER_${option.toUpperCase().replaceAll('-', '_')}`,
      value,
    ]),
  );
  const copy: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { ...base.metadata.labels, [FAULT_LABEL]: 'true' } },
    spec: spec as unknown as Record<string, unknown>,
  };
  setEnv(copy, env);
  return copy;
}
