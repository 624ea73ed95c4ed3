// What a run recorded, and the recorder that keeps it: every step (when it began and ended), every phase
// (a count step), every pod's life (created, ready, terminating, gone, hung, restarted — with its IP and
// Deployment) and every call of every client (when it started, how long it took, which pod answered, how
// it ended). Times are ms since the run began. Everything the lab prints afterwards is computed from this
// by pure functions (analysis.ts), so a recording gives the same figures whoever computes them.
import type { CallRecord } from '../../common/output.js';
import { onEndpointsSeen } from '../../common/trace.js';
import type { PodEvent, PodWatch } from './pod-watch.js';

/** One call: [start, latency ms, the pod IP that answered ('' for none), 'OK' or the status's name]. */
export type Call = [t: number, ms: number, pod: string, code: string];

export interface PodRecord {
  name: string;
  ip: string;
  deployment: string;
  replicaSet: string;
  /** a pod of a fault step's Deployment: the bad pod */
  fault: boolean;
  created: number;
  /** each time it turned ready, and not ready */
  ready: number[];
  unready: number[];
  terminating?: number;
  gone?: number;
  /** when its process was hung (SIGSTOP) and went on (SIGCONT) */
  stopped: Array<{ from: number; to?: number }>;
  restarts: number[];
}

export interface StepRecord {
  index: number;
  line: number;
  action: string;
  text: string;
  /** a scale step's replica count */
  replicas?: number;
  from: number;
  to: number;
}

export interface PhaseRecord {
  name: string;
  /** the count step's index */
  step: number;
  from: number;
  to: number;
}

export interface ClientRecord {
  name: string;
  calls: Call[];
  /** why it did not run here (nginx missing, no pod addresses, …) */
  unavailable?: string;
  /** CPU time and peak memory of its process (and what it needs, e.g. nginx) over the run */
  cost?: { cpuMs: number; rssMiB: number };
}

export interface Recording {
  scenario: { name: string; file: string; description: string };
  /** the run's start, ms since the Unix epoch */
  startedAt: number;
  /** the server Deployments the run scaled together */
  deployments: string[];
  steps: StepRecord[];
  phases: PhaseRecord[];
  pods: PodRecord[];
  clients: ClientRecord[];
  /** what the run said as it went, for charts and logs */
  events: Array<{ t: number; text: string }>;
  /**
   * When each part of the data plane first knew of each pod as ready (common/trace.ts): the
   * EndpointSlice ("slice:SERVICE"), kube-proxy's endpoints ("endpoints:SERVICE"), a DNS answer, an xDS
   * push, nginx's reload, a watch event sent, a mesh's endpoint set — part → pod IP → time.
   */
  seen: Record<string, Record<string, number>>;
  /** When a proxy first had a connection up to each pod: part → pod IP → time. */
  connected: Record<string, Record<string, number>>;
}

/** This moment on the process's clock and as ms since the epoch (the clock of the clients' records). */
function nowOnBothClocks(): { perf: number; epoch: number } {
  const perf = performance.now();
  return { perf, epoch: performance.timeOrigin + perf };
}

/** Keeps a Recording as the run goes; `now()` is its clock (ms since the start). */
export class Recorder {
  readonly recording: Recording;
  readonly #origin: number;
  readonly #pods = new Map<string, PodRecord>();

  constructor(scenario: Recording['scenario'], deployments: string[], clock = nowOnBothClocks()) {
    this.#origin = clock.perf;
    this.recording = {
      scenario,
      startedAt: clock.epoch,
      deployments,
      steps: [],
      phases: [],
      pods: [],
      clients: [],
      events: [],
      seen: {},
      connected: {},
    };
  }

  /** Follows what the data plane's parts tell of the endpoints, until the returned function is called. */
  traceEndpoints(): () => void {
    return onEndpointsSeen(({ part, ips, at }) => this.seen(part, ips, at));
  }

  /** `part` knows these pods as ready (at: ms since the epoch); the first time per pod is kept. */
  seen(part: string, ips: readonly string[], at: number): void {
    const known = (this.recording.seen[part] ??= {});
    const t = this.#sinceStart(at);
    for (const ip of ips) known[ip] ??= t;
  }

  /** `part` has a connection up to the pod `ip` (the first time is kept). */
  connected(part: string, ip: string, at: number): void {
    (this.recording.connected[part] ??= {})[ip] ??= this.#sinceStart(at);
  }

  #sinceStart(epochMs: number): number {
    return Math.round((epochMs - this.recording.startedAt) * 10) / 10;
  }

  now(): number {
    return Math.round((performance.now() - this.#origin) * 10) / 10;
  }

  event(text: string): void {
    this.recording.events.push({ t: this.now(), text });
  }

  /** Follows the pods (of the Deployments `include` takes) through a PodWatch whose clock is performance.now(). */
  follow(
    watch: PodWatch,
    isFault: (deployment: string) => boolean,
    include: (deployment: string) => boolean = () => true,
  ): void {
    watch.on('pod', (event) => {
      if (include(event.deployment)) this.pod(event, isFault(event.deployment));
    });
  }

  pod(event: PodEvent, fault: boolean): void {
    const t = Math.round((event.t - this.#origin) * 10) / 10;
    let pod = this.#pods.get(event.pod);
    if (!pod) {
      pod = {
        name: event.pod,
        ip: event.ip,
        deployment: event.deployment,
        replicaSet: event.replicaSet,
        fault,
        created: t,
        ready: [],
        unready: [],
        stopped: [],
        restarts: [],
      };
      this.#pods.set(event.pod, pod);
      this.recording.pods.push(pod);
    }
    if (event.ip) pod.ip = event.ip;
    if (event.kind === 'ready') pod.ready.push(t);
    else if (event.kind === 'unready') pod.unready.push(t);
    else if (event.kind === 'terminating') pod.terminating ??= t;
    else if (event.kind === 'gone') pod.gone = t;
    else if (event.kind === 'restarted') pod.restarts.push(t);
  }

  stopped(podName: string, hung: boolean): void {
    const pod = this.#pods.get(podName);
    if (!pod) return;
    if (hung) pod.stopped.push({ from: this.now() });
    else {
      const open = pod.stopped.at(-1);
      if (open && open.to === undefined) open.to = this.now();
    }
  }

  /** A client of the run; its calls are recorded from now on through the returned function. */
  client(name: string): { record: ClientRecord; call: (call: CallRecord) => void } {
    const record: ClientRecord = { name, calls: [] };
    this.recording.clients.push(record);
    const epoch = this.recording.startedAt;
    return {
      record,
      call: (call) => {
        record.calls.push([
          Math.round((call.t - epoch) * 10) / 10,
          Math.round(call.ms * 100) / 100,
          call.pod,
          call.code,
        ]);
      },
    };
  }

  step(record: StepRecord): void {
    this.recording.steps.push(record);
  }

  phase(record: PhaseRecord): void {
    this.recording.phases.push(record);
  }
}
