// A scenario is what the experiment does to the pods, as data: a small YAML file with a list of steps,
// run in order against the lab through the operations a user has (scale, delete a pod, change the pod
// template) while every client's calls are recorded. `count` steps are the phases the figures come from.
//
//   name: rollout
//   description: five replicas, then a rolling update
//   steps:
//     - scale: 5
//     - wait: rollout
//     - count: 20s
//       as: before the rollout
//     - rollout: restart
//     ...
//
// Steps (one action each; `deployment:` narrows a step to one Deployment, else it acts on every server
// Deployment the run scales together):
//   scale: N                      kubectl scale --replicas=N
//   wait: rollout | ready         until every such Deployment's rollout is complete (kubectl rollout status)
//   count: 20s   [as: NAME]       a phase: count the clients' calls for this long
//   pause: 5s                     wait without counting
//   kill: oldest|newest|random    a pod dies at once: kubectl delete pod --grace-period=0 --force
//   delete: oldest|newest|random  kubectl delete pod (graceful: out of the endpoints, SIGTERM, drain)
//   rollout: restart              kubectl rollout restart: a new pod template, a rolling update
//   set-env: {NAME: value, …}     kubectl set env: the same, with the variables changed
//   stop: oldest|newest|random    the pod's process hangs (SIGSTOP): accepts connections, answers nothing
//   continue: stopped             every hung pod goes on (SIGCONT)
//   fault: {delay-ms: 200, …}     one more pod behind the same Service, answering with that fault (a
//                                 Deployment of its own with the server's ADDR_SERVER_* fault options)
//   fault: off                    that Deployment goes away
// Top-level `clients:` may set how the clients call: `rate` (calls per second), `interval-ms`,
// `deadline-ms`; the command line wins.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { parseServerArgs, UsageError } from '../../server/options.js';

export type Which = 'oldest' | 'newest' | 'random';
const WHICH: readonly Which[] = ['oldest', 'newest', 'random'];

/** The server's fault options a `fault` step may set (their ADDR_SERVER_* variables). */
export const FAULT_OPTIONS = ['delay-ms', 'delay-jitter-ms', 'fail-percent', 'fail-code'] as const;
export type FaultOption = (typeof FAULT_OPTIONS)[number];

interface StepBase {
  /** where the step is in its file, for messages */
  line: number;
  /** 1-based */
  index: number;
  /** only this Deployment; else every server Deployment of the run */
  deployment?: string;
}

export type Step = StepBase &
  (
    | { action: 'scale'; replicas: number }
    | { action: 'wait'; until: 'rollout' | 'ready'; timeoutMs: number }
    | { action: 'count'; ms: number; phase: string }
    | { action: 'pause'; ms: number }
    | { action: 'kill'; which: Which }
    | { action: 'delete'; which: Which }
    | { action: 'rollout'; how: 'restart' }
    | { action: 'set-env'; env: Record<string, string> }
    | { action: 'stop'; which: Which }
    | { action: 'continue' }
    | { action: 'fault'; options: Partial<Record<FaultOption, string>> | 'off'; replicas: number }
  );

export type Action = Step['action'];
const ACTIONS: readonly Action[] = [
  'scale',
  'wait',
  'count',
  'pause',
  'kill',
  'delete',
  'rollout',
  'set-env',
  'stop',
  'continue',
  'fault',
];
/** Keys a step may carry besides its action. */
const MODIFIERS: Partial<Record<Action, readonly string[]>> = {
  count: ['as', 'deployment'],
  wait: ['timeout', 'deployment'],
  fault: ['replicas'],
};

export interface ClientSettings {
  rate?: number;
  intervalMs?: number;
  deadlineMs?: number;
}

export interface Scenario {
  name: string;
  description: string;
  file: string;
  clients: ClientSettings;
  steps: Step[];
}

export class ScenarioError extends Error {}

/** "20s", "1.5s", "500ms", "2m" → ms. */
export function parseDuration(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim()) : undefined;
  if (!match) return undefined;
  const value = Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  return Number.isFinite(value) && value > 0 && value <= 3_600_000 ? Math.round(value) : undefined;
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : 1);
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const line = error?.linePos?.[0].line ?? 1;
    throw new ScenarioError(`${file}:${line}: not valid YAML: ${error?.message.split('\n')[0]}`);
  }
  const root = document.contents;
  if (!isMap(root)) throw new ScenarioError(`${file}:1: a scenario is a map with name, description and steps`);
  const top = root.toJSON() as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['name', 'description', 'clients', 'steps'].includes(key)) {
      const node = root.items.find((item) => (item.key as { value?: unknown })?.value === key)?.key as Node | undefined;
      throw new ScenarioError(
        `${file}:${lineOf(node)}: unknown key "${key}" (a scenario has name, description, clients, steps)`,
      );
    }
  }
  if (typeof top.name !== 'string' || top.name.trim() === '') throw new ScenarioError(`${file}:1: name is missing`);
  const stepsNode = root.get('steps', true) as Node | undefined;
  if (!isSeq(stepsNode) || stepsNode.items.length === 0) {
    throw new ScenarioError(`${file}:${lineOf(stepsNode ?? root)}: steps must be a list of at least one step`);
  }
  const clients = parseClients(top.clients, `${file}:${lineOf(root.get('clients', true))}`);
  const steps = stepsNode.items.map((item, i) =>
    parseStep(item as Node, i + 1, `${file}:${lineOf(item as Node)}`, lineOf(item as Node)),
  );
  const phases = steps.flatMap((step) => (step.action === 'count' ? [step.phase] : []));
  const twice = phases.find((phase, i) => phases.indexOf(phase) !== i);
  if (twice !== undefined)
    throw new ScenarioError(`${file}: two count steps are both named "${twice}": name them apart with as:`);
  if (phases.length === 0)
    throw new ScenarioError(`${file}: no count step: a scenario needs at least one phase to count`);
  return {
    name: top.name.trim(),
    description: typeof top.description === 'string' ? top.description.trim() : '',
    file,
    clients,
    steps,
  };
}

function parseClients(value: unknown, where: string): ClientSettings {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ScenarioError(`${where}: clients must be a map`);
  const settings: ClientSettings = {};
  for (const [key, raw] of Object.entries(value)) {
    const number = typeof raw === 'number' && Number.isInteger(raw) && raw > 0 ? raw : undefined;
    if (key === 'rate' && number !== undefined && number <= 5000) settings.rate = number;
    else if (key === 'interval-ms' && number !== undefined && number >= 10) settings.intervalMs = number;
    else if (key === 'deadline-ms' && number !== undefined && number <= 600_000) settings.deadlineMs = number;
    else if (['rate', 'interval-ms', 'deadline-ms'].includes(key)) {
      throw new ScenarioError(
        `${where}: clients.${key} must be a whole number (rate 1–5000, interval-ms ≥ 10, deadline-ms 1–600000), got ${JSON.stringify(raw)}`,
      );
    } else throw new ScenarioError(`${where}: clients.${key} is not a setting (rate, interval-ms, deadline-ms)`);
  }
  if (settings.rate !== undefined && settings.intervalMs !== undefined) {
    throw new ScenarioError(`${where}: clients sets both rate and interval-ms: give one`);
  }
  return settings;
}

function parseStep(node: Node, index: number, where: string, line: number): Step {
  if (!isMap(node)) throw new ScenarioError(`${where}: step ${index} must be a map such as "scale: 5"`);
  const step = node.toJSON() as Record<string, unknown>;
  const keys = Object.keys(step);
  const actions = keys.filter((key): key is Action => (ACTIONS as readonly string[]).includes(key));
  if (actions.length !== 1) {
    const unknown = keys.filter(
      (key) =>
        !(ACTIONS as readonly string[]).includes(key) && !['as', 'deployment', 'timeout', 'replicas'].includes(key),
    );
    throw new ScenarioError(
      unknown.length > 0
        ? `${where}: step ${index}: unknown action "${unknown[0]}" (one of ${ACTIONS.join(', ')})`
        : `${where}: step ${index} must have exactly one action (${ACTIONS.join(', ')}), it has ${actions.length === 0 ? 'none' : actions.join(' and ')}`,
    );
  }
  const action = actions[0] as Action;
  const allowed = ['deployment', ...(MODIFIERS[action] ?? [])];
  const extra = keys.find((key) => key !== action && !allowed.includes(key));
  if (extra) throw new ScenarioError(`${where}: step ${index} (${action}): "${extra}" does not go with ${action}`);
  const value = step[action];
  const fail = (why: string): never => {
    throw new ScenarioError(`${where}: step ${index} (${action}): ${why}, got ${JSON.stringify(value)}`);
  };
  const deployment = step.deployment;
  if (
    deployment !== undefined &&
    (typeof deployment !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(deployment))
  ) {
    throw new ScenarioError(
      `${where}: step ${index} (${action}): deployment must be a Deployment's name, got ${JSON.stringify(deployment)}`,
    );
  }
  const base = { line, index, ...(typeof deployment === 'string' && { deployment }) };
  const which = () => (WHICH.includes(value as Which) ? (value as Which) : fail(`expected ${WHICH.join(', ')}`));
  switch (action) {
    case 'scale':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 20)
        fail('expected a replica count from 0 to 20');
      return { ...base, action, replicas: value as number };
    case 'wait': {
      if (value !== 'rollout' && value !== 'ready') fail('expected rollout or ready');
      const timeout = step.timeout === undefined ? 120_000 : parseDuration(step.timeout);
      if (timeout === undefined)
        throw new ScenarioError(
          `${where}: step ${index} (wait): timeout must be a duration such as 60s, got ${JSON.stringify(step.timeout)}`,
        );
      return { ...base, action, until: value as 'rollout' | 'ready', timeoutMs: timeout };
    }
    case 'count': {
      const ms = parseDuration(value) ?? fail('expected a duration such as 20s or 500ms');
      if (step.as !== undefined && (typeof step.as !== 'string' || step.as.trim() === '')) {
        throw new ScenarioError(
          `${where}: step ${index} (count): as must name the phase, got ${JSON.stringify(step.as)}`,
        );
      }
      return { ...base, action, ms, phase: typeof step.as === 'string' ? step.as.trim() : `phase ${index}` };
    }
    case 'pause':
      return { ...base, action, ms: parseDuration(value) ?? fail('expected a duration such as 5s') };
    case 'kill':
    case 'delete':
    case 'stop':
      return { ...base, action, which: which() };
    case 'continue':
      if (value !== 'stopped') fail('expected "stopped" (every pod a stop step hung goes on)');
      return { ...base, action };
    case 'rollout':
      if (value !== 'restart') fail('expected restart');
      return { ...base, action, how: 'restart' };
    case 'set-env': {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
        fail('expected a map of variables, such as {ADDR_SERVER_DELAY_MS: "5"}');
      }
      const env: Record<string, string> = {};
      for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(`"${name}" is not a variable name`);
        if (typeof v !== 'string' && typeof v !== 'number') fail(`${name} must be a string or a number`);
        env[name] = String(v);
      }
      return { ...base, action, env };
    }
    case 'fault': {
      const replicas = step.replicas ?? 1;
      if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
        throw new ScenarioError(
          `${where}: step ${index} (fault): replicas must be from 1 to 5, got ${JSON.stringify(replicas)}`,
        );
      }
      if (value === 'off') return { ...base, action, options: 'off', replicas };
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
        fail(`expected off, or a map of the server's fault options (${FAULT_OPTIONS.join(', ')})`);
      }
      const options: Partial<Record<FaultOption, string>> = {};
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        if (!(FAULT_OPTIONS as readonly string[]).includes(key))
          fail(`"${key}" is not a fault option (${FAULT_OPTIONS.join(', ')})`);
        if (typeof v !== 'string' && typeof v !== 'number') fail(`${key} must be a number or a name`);
        options[key as FaultOption] = String(v);
      }
      // Checked as the faulty pod's server will check its env, so a bad value is this line, not a pod that
      // never starts.
      try {
        parseServerArgs(
          [],
          Object.fromEntries(
            Object.entries(options).map(([key, v]) => [`ADDR_SERVER_${key.toUpperCase().replaceAll('-', '_')}`, v]),
          ),
        );
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        fail(error.message.replace(/^server: /, '').replace(/ \(see --help\)$/, ''));
      }
      return { ...base, action, options, replicas };
    }
  }
}

/** A step as a person reads it, for progress lines and charts. */
export function stepText(step: Step): string {
  const on = step.deployment ? ` (${step.deployment})` : '';
  switch (step.action) {
    case 'scale':
      return `scale to ${step.replicas}${on}`;
    case 'wait':
      return `wait for the ${step.until === 'rollout' ? 'rollout' : 'pods to be ready'}${on}`;
    case 'count':
      return `count: ${step.phase}`;
    case 'pause':
      return `pause ${step.ms / 1000} s`;
    case 'kill':
      return `kill the ${step.which} pod${on}`;
    case 'delete':
      return `delete the ${step.which} pod${on}`;
    case 'rollout':
      return `rollout restart${on}`;
    case 'set-env':
      return `set env ${Object.entries(step.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}${on}`;
    case 'stop':
      return `hang the ${step.which} pod (SIGSTOP)${on}`;
    case 'continue':
      return 'the hung pods go on (SIGCONT)';
    case 'fault':
      return step.options === 'off'
        ? 'the faulty pods go away'
        : `a faulty pod: ${Object.entries(step.options)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`;
  }
}
