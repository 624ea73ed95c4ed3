// What a Markdown page holds for a reader who follows it: its headings' anchors (as GitHub makes them),
// its links, the code it shows and its tables. Enough Markdown for the kit's own pages, not a parser.

/** The lines of `markdown` outside fenced code blocks, and the lines inside them, each with its number. */
function split(markdown: string): { prose: Array<[number, string]>; code: Array<[number, string]> } {
  const prose: Array<[number, string]> = [];
  const code: Array<[number, string]> = [];
  let fenced = false;
  markdown.split('\n').forEach((line, index) => {
    if (/^\s*```/.test(line)) fenced = !fenced;
    else (fenced ? code : prose).push([index + 1, line]);
  });
  return { prose, code };
}

const CODE_SPAN = /`([^`]+)`/g;

/** GitHub's anchor for a heading: its text lower-cased, punctuation dropped, each space a hyphen. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every heading's anchor; a repeated one gets -1, -2, … as on GitHub. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const [, line] of split(markdown).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1] ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links and images outside code. */
export function links(markdown: string): Link[] {
  return split(markdown).prose.flatMap(([line, text]) =>
    [...text.replace(CODE_SPAN, 'code').matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({
      line,
      target: m[1] ?? '',
    })),
  );
}

/** What the page shows as code: each line of its fenced blocks, and each inline code span. */
export function code(markdown: string): Array<{ line: number; text: string }> {
  const { prose, code: blocks } = split(markdown);
  return [
    ...blocks.map(([line, text]) => ({ line, text })),
    ...prose.flatMap(([line, text]) => [...text.matchAll(CODE_SPAN)].map((m) => ({ line, text: m[1] ?? '' }))),
  ].sort((a, b) => a.line - b.line);
}

export interface Table {
  line: number;
  header: string[];
  rows: string[][];
}

/** Pipe tables: the header's cells and each row's ( `\|` inside a cell stays in the cell). */
export function tables(markdown: string): Table[] {
  const cells = (row: string) =>
    row
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim());
  const found: Table[] = [];
  let current: Table | undefined;
  const lines = split(markdown).prose;
  lines.forEach(([line, text], index) => {
    const next = lines[index + 1];
    if (!current && /^\s*\|/.test(text) && next && /^\s*\|[\s|:-]+\|\s*$/.test(next[1])) {
      current = { line, header: cells(text), rows: [] };
      found.push(current);
    } else if (current && /^\s*\|/.test(text)) {
      if (!/^\s*\|[\s|:-]+\|\s*$/.test(text)) current.rows.push(cells(text));
    } else current = undefined;
  });
  return found;
}

/** The page's prose and code as one line of text, so that a sentence wrapped over lines still matches. */
export function flat(markdown: string): string {
  return markdown.replace(/\s+/g, ' ');
}
