// Label and field selectors, as `?labelSelector=` and `?fieldSelector=` carry them: the grammar of
// Kubernetes' labels.Parse (=, ==, !=, in, notin, exists, !exists) and the field selectors kubectl sends.
import { badRequest } from './status.js';

type Labels = Readonly<Record<string, string>> | undefined;
type Matcher<T> = (value: T) => boolean;

const TOKEN = /\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) {
      if (text.slice(at).trim() === '') break;
      throw badRequest(`unable to parse requirement: found '${text.slice(at)}'`);
    }
    tokens.push(match[1] as string);
  }
  return tokens;
}

const isWord = (token: string | undefined): token is string =>
  token !== undefined && !['!=', '==', '=', '(', ')', ',', '!'].includes(token);

export function parseLabelSelector(text: string | undefined): Matcher<Labels> {
  if (!text || !text.trim()) return () => true;
  const tokens = tokenize(text);
  const requirements: Array<Matcher<Labels>> = [];
  let i = 0;
  const fail = (): never => {
    throw badRequest(`unable to parse requirement in label selector "${text}"`);
  };
  const word = () => (isWord(tokens[i]) ? (tokens[i++] as string) : fail());
  const values = () => {
    if (tokens[i++] !== '(') fail();
    const set = new Set<string>();
    for (;;) {
      if (isWord(tokens[i])) set.add(tokens[i++] as string);
      else set.add('');
      const next = tokens[i++];
      if (next === ')') return set;
      if (next !== ',') fail();
    }
  };
  for (;;) {
    if (tokens[i] === '!') {
      i++;
      const key = word();
      requirements.push((labels) => labels?.[key] === undefined);
    } else {
      const key = word();
      const op = tokens[i];
      if (op === '=' || op === '==' || op === '!=') {
        i++;
        const value = isWord(tokens[i]) ? (tokens[i++] as string) : '';
        requirements.push(op === '!=' ? (labels) => labels?.[key] !== value : (labels) => labels?.[key] === value);
      } else if (op === 'in' || op === 'notin') {
        i++;
        const set = values();
        requirements.push(
          op === 'in' ? (labels) => set.has(labels?.[key] ?? '\0') : (labels) => !set.has(labels?.[key] ?? '\0'),
        );
      } else {
        requirements.push((labels) => labels?.[key] !== undefined);
      }
    }
    if (i === tokens.length) break;
    if (tokens[i++] !== ',') fail();
  }
  return (labels) => requirements.every((requirement) => requirement(labels));
}

/** The fields each resource can be selected by (the API server's field label conversion). */
const FIELDS: Record<string, (object: FieldSource) => string | undefined> = {
  'metadata.name': (object) => object.metadata.name,
  'metadata.namespace': (object) => object.metadata.namespace,
  'spec.nodeName': (object) => (object.spec as { nodeName?: string } | undefined)?.nodeName ?? '',
  'status.phase': (object) => (object.status as { phase?: string } | undefined)?.phase ?? '',
};
const POD_ONLY = new Set(['spec.nodeName', 'status.phase']);

interface FieldSource {
  metadata: { name: string; namespace?: string };
  spec?: unknown;
  status?: unknown;
}

export function parseFieldSelector(text: string | undefined, resource: string): Matcher<FieldSource> {
  if (!text || !text.trim()) return () => true;
  const requirements = text.split(/(?<!\\),/).map((term): Matcher<FieldSource> => {
    const match = /^\s*([^!=\s]+)\s*(!=|==|=)(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid field selector: '${term}'`);
    const [, field = '', op, raw = ''] = match;
    const read = FIELDS[field];
    if (!read || (POD_ONLY.has(field) && resource !== 'pods')) {
      throw badRequest(`field label not supported: ${field}`);
    }
    const value = raw.trim().replace(/\\(.)/g, '$1');
    return op === '!=' ? (object) => read(object) !== value : (object) => read(object) === value;
  });
  return (object) => requirements.every((requirement) => requirement(object));
}

/** `a=b,c=d`, keys sorted, as kubectl's SELECTOR column and a Scale's status.selector show them. */
export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((key) => `${key}=${labels?.[key]}`).join(',') : '<none>';
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** A Deployment's spec.selector as a selector string (`app=addr-server`). */
export function selectorText(selector: LabelSelector | undefined): string {
  const parts = Object.keys(selector?.matchLabels ?? {})
    .sort()
    .map((key) => `${key}=${selector?.matchLabels?.[key]}`);
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const list = [...values].sort().join(',');
    if (operator === 'In') parts.push(`${key} in (${list})`);
    else if (operator === 'NotIn') parts.push(`${key} notin (${list})`);
    else if (operator === 'Exists') parts.push(key);
    else if (operator === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.join(',');
}
