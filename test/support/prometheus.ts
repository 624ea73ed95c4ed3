// Scraping /metrics as Prometheus does, parsed by a real exposition-format parser.
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';

export type Scrape = Map<string, Family>;

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url}: HTTP ${response.status}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return new Map(parsePrometheusTextFormat(await response.text()).map((family) => [family.name, family]));
}

/** The family, which must be there with this type. */
export function family(scraped: Scrape, name: string, type: Family['type']): Family {
  const found = scraped.get(name);
  assert.ok(found, `no ${name} in the scrape`);
  assert.equal(found.type, type, name);
  return found;
}

/** The sum of the values of the family's series whose labels include `labels` (0 when none has them). */
export function total(scraped: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = scraped.get(name);
  assert.ok(found, `no ${name} in the scrape`);
  return found.metrics
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))
    .reduce((sum, sample) => sum + Number(sample.value), 0);
}

/** The label sets of the family's series. */
export function labelSets(scraped: Scrape, name: string): Array<Record<string, string>> {
  return (scraped.get(name)?.metrics ?? []).map((sample) => sample.labels ?? {});
}
