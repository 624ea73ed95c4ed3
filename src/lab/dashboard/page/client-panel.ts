// One client's panel: a stacked chart of calls per second over the last minute, a band per pod
// (uPlot), and who answered the last 10 seconds, as bars with their numbers in words. Stacked, one
// pod's band filling the whole height is "stuck", equal bands are "balanced", at a glance.
import uPlot from 'uplot';
import { compareIps } from '../../../common/ip.js';
import type { FeedClient, Tick } from '../wire.js';
import { colorOf } from './colors.js';

const WINDOW = 60; // seconds on the chart
const SMOOTH = 5; // seconds averaged per point: one call a second spread over 5 pods is 0.2/s each
const RECENT = 10; // seconds in the summary
const HEIGHT = 170;

export class ClientPanel {
  readonly element: HTMLElement;
  readonly #chartBox: HTMLElement;
  readonly #summary: HTMLElement;
  readonly #shares: HTMLUListElement;
  #chart: uPlot | undefined;
  #series = '';

  constructor(private readonly client: FeedClient) {
    this.element = document.createElement('section');
    this.element.className = 'client';
    this.element.setAttribute('aria-labelledby', `client-${client.id}`);
    const heading = document.createElement('h3');
    heading.id = `client-${client.id}`;
    heading.textContent = client.label;
    this.#summary = document.createElement('p');
    this.#summary.className = 'summary';
    this.#chartBox = document.createElement('div');
    this.#chartBox.className = 'chart';
    this.#chartBox.setAttribute('role', 'img');
    this.#chartBox.setAttribute('aria-label', `${client.label}: calls per second to each pod over the last minute`);
    this.#shares = document.createElement('ul');
    this.#shares.className = 'shares';
    this.#shares.setAttribute('aria-label', `${client.label}: who answered the last ${RECENT} seconds`);
    this.element.append(heading, this.#summary, this.#chartBox, this.#shares);
    new ResizeObserver(() => this.#chart?.setSize({ width: this.#width(), height: HEIGHT })).observe(this.#chartBox);
  }

  /** `ready`: the IPs of the pods ready now. */
  update(history: Tick[], ready: ReadonlySet<string>): void {
    const id = this.client.id;
    const ticks = history.slice(-WINDOW);
    const recent = ticks.slice(-RECENT);
    const ips = [...new Set(ticks.flatMap((tick) => Object.keys(tick.calls[id] ?? {})))].sort(compareIps);
    const counts = new Map<string, number>();
    for (const tick of recent)
      for (const [ip, n] of Object.entries(tick.calls[id] ?? {})) counts.set(ip, (counts.get(ip) ?? 0) + n);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const errors = recent.reduce((sum, tick) => sum + (tick.errors[id] ?? 0), 0);
    // Of the pods ready now, those that answered; pods that answered and have left since are said apart.
    const answering = [...counts.entries()].filter(([, n]) => n > 0).map(([ip]) => ip);
    const answered = answering.filter((ip) => ready.has(ip)).length;
    const gone = answering.length - answered;
    this.#summary.textContent =
      total === 0 && errors === 0
        ? `last ${RECENT} s: no calls yet`
        : `last ${RECENT} s: ${total} calls, ${answered} of ${ready.size} ready pods answered` +
          `${gone ? `, and ${gone} pod${gone === 1 ? '' : 's'} gone since` : ''}${errors ? `, ${errors} errors` : ''}`;
    this.#drawShares(counts, total);
    this.#drawChart(ticks, ips);
  }

  #drawShares(counts: Map<string, number>, total: number): void {
    const items = [...counts.entries()]
      .sort(([a], [b]) => compareIps(a, b))
      .map(([ip, n]) => {
        const share = total ? Math.round((100 * n) / total) : 0;
        const li = document.createElement('li');
        li.dataset.pod = ip;
        const name = document.createElement('span');
        name.className = 'ip';
        name.textContent = ip;
        const bar = document.createElement('span');
        bar.className = 'bar';
        bar.style.setProperty('--share', `${share}%`);
        bar.style.setProperty('--color', colorOf(ip));
        const figure = document.createElement('span');
        figure.className = 'figure';
        figure.textContent = `${share} % · ${n}`;
        li.append(name, bar, figure);
        return li;
      });
    this.#shares.replaceChildren(...items);
  }

  #drawChart(ticks: Tick[], ips: string[]): void {
    const id = this.client.id;
    const x = ticks.map((tick) => tick.t);
    const rates = ips.map((ip) =>
      ticks.map((_, i) => {
        const span = ticks.slice(Math.max(0, i - SMOOTH + 1), i + 1);
        return span.reduce((sum, tick) => sum + (tick.calls[id]?.[ip] ?? 0), 0) / span.length;
      }),
    );
    // Stacked: the k-th line is the sum of the first k+1 pods' rates. Drawn from the top band down,
    // each filled to zero over the one before, so each pod's band shows between two lines.
    const stacked = rates.map((_, k) =>
      x.map((_, i) => rates.slice(0, k + 1).reduce((sum, rate) => sum + (rate[i] ?? 0), 0)),
    );
    const data: uPlot.AlignedData = [x, ...stacked.reverse()];
    const series = ips.join(' ');
    if (this.#chart && series === this.#series) {
      this.#chart.setData(data);
      return;
    }
    // A pod came or went: a chart with its series anew (uPlot's series are fixed at creation).
    this.#chart?.destroy();
    this.#series = series;
    this.#chart = new uPlot(
      {
        width: this.#width(),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max))] } },
        axes: [{ stroke: '#444' }, { stroke: '#444', label: 'calls/s', size: 44 }],
        series: [
          {},
          ...[...ips]
            .reverse()
            .map((ip) => ({ label: ip, stroke: colorOf(ip), fill: colorOf(ip), width: 1, points: { show: false } })),
        ],
      },
      data,
      this.#chartBox,
    );
  }

  #width(): number {
    return Math.max(200, this.#chartBox.clientWidth);
  }
}
