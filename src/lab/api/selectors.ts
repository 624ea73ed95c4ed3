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

/** A label's value, read as an own property only: `constructor` is a label like any other, not Object's. */
const own = (labels: Labels, key: string) => (labels && Object.hasOwn(labels, key) ? labels[key] : undefined);

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
      requirements.push((labels) => own(labels, key) === undefined);
    } else {
      const key = word();
      const op = tokens[i];
      if (op === '=' || op === '==' || op === '!=') {
        i++;
        const value = isWord(tokens[i]) ? (tokens[i++] as string) : '';
        requirements.push(
          op === '!=' ? (labels) => own(labels, key) !== value : (labels) => own(labels, key) === value,
        );
      } else if (op === 'in' || op === 'notin') {
        i++;
        const set = values();
        requirements.push(
          op === 'in' ? (labels) => set.has(own(labels, key) ?? '\0') : (labels) => !set.has(own(labels, key) ?? '\0'),
        );
      } else {
        requirements.push((labels) => own(labels, key) !== undefined);
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

/** A LabelSelector's requirements as labels.Selector keeps them: sorted by key (LabelSelectorAsSelector). */
function requirements(selector: LabelSelector) {
  const { matchLabels, matchExpressions } = selector;
  const all = [
    ...Object.entries(typeof matchLabels === 'object' && matchLabels !== null ? matchLabels : {}).map(
      ([key, value]) => ({ key, operator: 'Equals', values: [value] }),
    ),
    ...(Array.isArray(matchExpressions) ? matchExpressions : []).filter(
      (requirement) => typeof requirement === 'object' && requirement !== null,
    ),
  ];
  return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * A Deployment's or ReplicaSet's spec.selector as a selector string, as labels.Selector.String() writes it
 * (`app=addr-server`, `tier in (a,b)`, `!canary`): '' for an empty selector.
 */
export function selectorText(selector: LabelSelector | undefined): string {
  return requirements(selector ?? {})
    .map(({ key, operator, values = [] }) => {
      const list = [...(Array.isArray(values) ? values : [])].sort().join(',');
      if (operator === 'Equals') return `${key}=${values[0]}`;
      if (operator === 'In') return `${key} in (${list})`;
      if (operator === 'NotIn') return `${key} notin (${list})`;
      if (operator === 'Exists') return key;
      if (operator === 'DoesNotExist') return `!${key}`;
      return '';
    })
    .filter(Boolean)
    .join(',');
}

/** Whether `labels` satisfy a LabelSelector (an empty selector selects everything), as LabelSelectorAsSelector. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  return requirements(selector).every(({ key, operator, values = [] }) => {
    if (operator === 'In' || operator === 'Equals') return has(key) && values.includes(labels?.[key] as string);
    if (operator === 'NotIn') return !has(key) || !values.includes(labels?.[key] as string);
    if (operator === 'Exists') return has(key);
    if (operator === 'DoesNotExist') return !has(key);
    return false;
  });
}
