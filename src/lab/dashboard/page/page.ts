// The dashboard's page: follows the lab's feed (server-sent events), draws a panel per client and the
// pods table, and sends the buttons' requests to the lab's Kubernetes API, as kubectl does.
import { ClientPanel } from './client-panel.js';
import { deletePod, scale, type Target } from './kube.js';
import { PodsTable } from './pods-table.js';
import type { DeploymentView, Hello, PodView, Tick } from '../wire.js';

const HISTORY = 120;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const summary = byId('summary');
const outcome = byId('outcome');
const buttons = [...document.querySelectorAll<HTMLButtonElement>('.buttons button')];

let target: Target | undefined;
let maxReplicas = 20;
let history: Tick[] = [];
let pods: PodView[] = [];
let replicas: DeploymentView = { replicas: 0, ready: 0 };
let panels: ClientPanel[] = [];
let busy = false;
const podsTable = new PodsTable(byId('pods'), (pod) => void remove(pod));

function draw(): void {
  const readyIps = new Set(pods.filter((pod) => pod.state === 'Ready').map((pod) => pod.ip));
  const ready = readyIps.size;
  const text = target
    ? `Deployment ${target.deployment}: ${replicas.replicas} replica${replicas.replicas === 1 ? '' : 's'}, ${ready} ready`
    : 'connecting to the lab…';
  if (summary.textContent !== text) summary.textContent = text; // a live region: announce changes only
  for (const panel of panels) panel.update(history, readyIps);
  podsTable.draw(pods, history.at(-1));
  for (const button of buttons) {
    const next = wanted(button);
    button.disabled = busy || !target || next < 0 || next > maxReplicas;
  }
}

function wanted(button: HTMLButtonElement): number {
  return button.dataset.to !== undefined ? Number(button.dataset.to) : replicas.replicas + Number(button.dataset.by);
}

async function scaleTo(count: number): Promise<void> {
  if (!target) return;
  busy = true;
  draw();
  const command = `kubectl scale -n ${target.namespace} --replicas=${count} deployment/${target.deployment}`;
  outcome.textContent = `${command} …`;
  const result = await scale(target, count);
  outcome.textContent = result.ok ? `${command}: scaled` : `${command}: ${result.message}`;
  busy = false;
  draw();
}

async function remove(pod: PodView): Promise<void> {
  if (!target) return;
  const command = `kubectl delete pod -n ${target.namespace} ${pod.name}`;
  outcome.textContent = `${command} …`;
  const result = await deletePod(target, pod.name);
  outcome.textContent = result.ok ? `${command}: deleted; the Deployment replaces it` : `${command}: ${result.message}`;
}

for (const button of buttons) button.addEventListener('click', () => void scaleTo(wanted(button)));

const events = new EventSource('events');
const on = <T>(name: string, handle: (data: T) => void) =>
  events.addEventListener(name, (event) => {
    handle(JSON.parse((event as MessageEvent<string>).data) as T);
    draw();
  });
on<Hello>('hello', (hello) => {
  target = { apiPort: hello.apiPort, namespace: hello.namespace, deployment: hello.deployment };
  maxReplicas = hello.maxReplicas;
  history = hello.history;
  pods = hello.pods;
  replicas = hello.replicas;
  const box = byId('clients');
  panels = hello.clients.map((client) => new ClientPanel(client));
  box.replaceChildren(...panels.map((panel) => panel.element));
  if (panels.length === 0) box.textContent = 'The lab runs no clients (--no-service-clients --no-mesh-client).';
});
on<PodView[]>('pods', (next) => (pods = next));
on<DeploymentView>('deployment', (next) => (replicas = next));
on<Tick>('tick', (tick) => {
  history.push(tick);
  if (history.length > HISTORY) history = history.slice(-HISTORY);
});
events.addEventListener('error', () => {
  summary.textContent =
    events.readyState === EventSource.CLOSED ? 'the lab has stopped' : 'lost the lab: reconnecting…';
});
