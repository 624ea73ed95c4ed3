// The pods, as the Kubernetes API has them (the feed follows its watch), with what the balancers did
// with each: the Service's connections open now and opened (L4), the mesh's requests (L7), and a
// button that deletes the pod as `kubectl delete pod` does. Rows are kept and updated in place, so
// that a focused button keeps its focus while the numbers move.
import type { PodView, Tick } from '../wire.js';
import { colorOf } from './colors.js';

interface Row {
  element: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  button: HTMLButtonElement;
}

export class PodsTable {
  readonly #rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLElement,
    private readonly onDelete: (pod: PodView) => void,
  ) {}

  draw(pods: PodView[], last: Tick | undefined): void {
    const conns = (port: string, ip: string) => {
      const [open, opened] = last?.service[port]?.[ip] ?? [0, 0];
      return `${open} / ${opened}`;
    };
    const names = new Set(pods.map((pod) => pod.name));
    for (const [name, row] of this.#rows) {
      if (!names.has(name)) {
        row.element.remove();
        this.#rows.delete(name);
      }
    }
    pods.forEach((pod, index) => {
      const row = this.#rows.get(pod.name) ?? this.#add(pod);
      const texts = [
        pod.name,
        pod.ip,
        pod.state,
        conns('http', pod.ip),
        conns('grpc', pod.ip),
        String(last?.mesh[pod.ip] ?? 0),
      ];
      texts.forEach((text, i) => {
        const cell = row.cells[i] as HTMLTableCellElement;
        if (cell.textContent !== text) cell.textContent = text;
      });
      (row.cells[2] as HTMLTableCellElement).className = `state ${pod.state.toLowerCase()}`;
      row.element.dataset.state = pod.state;
      row.button.disabled = pod.state === 'Terminating';
      if (this.body.children[index] !== row.element)
        this.body.insertBefore(row.element, this.body.children[index] ?? null);
    });
  }

  #add(pod: PodView): Row {
    const element = document.createElement('tr');
    element.dataset.pod = pod.name;
    const classes = ['name', 'ip', 'state', 'number', 'number', 'number'];
    const cells = classes.map((className) => {
      const td = document.createElement('td');
      td.className = className;
      element.append(td);
      return td;
    });
    (cells[1] as HTMLTableCellElement).style.setProperty('--color', colorOf(pod.ip));
    const actions = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Delete';
    button.setAttribute('aria-label', `Delete pod ${pod.name}`);
    button.addEventListener('click', () => this.onDelete(pod));
    actions.append(button);
    element.append(actions);
    const row = { element, cells, button };
    this.#rows.set(pod.name, row);
    return row;
  }
}
