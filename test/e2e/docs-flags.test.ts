// Every flag the docs give out/lab, out/client-grpc, out/client-http, out/server or out/xds-control-plane is in
// that program's --help (a boolean's --no-… form too); the check is also shown failing on a broken page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { code, tables } from '../support/markdown.js';
import { pages as docs } from '../support/pages.js';
import { run } from './support/processes.js';

const PROGRAMS = ['lab', 'client-grpc', 'client-http', 'server', 'xds-control-plane'];
const LAB_COMMANDS = ['run', 'up', 'scale', 'compare'];

/** Each flag the docs name, with the program (and lab command) it is given to. */
function namedFlags(files: ReadonlyMap<string, string>): Array<{ where: string; program: string; flag: string }> {
  const found: Array<{ where: string; program: string; flag: string }> = [];
  const programOf = (words: string[]) => {
    const [name, command] = words;
    if (name !== 'lab') return name ?? '';
    return `lab ${LAB_COMMANDS.includes(command ?? '') ? command : 'run'}`;
  };
  const flagsIn = (text: string) => [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? '');
  for (const [file, text] of files) {
    // commands: "out/lab up --flag …", up to a comment, a pipe or the next command
    for (const { line, text: snippet } of code(text)) {
      for (const m of snippet.matchAll(/(?:^|[\s$=(])out\/([a-z-]+)((?:\s+[^\s#|;&]+)*)/g)) {
        if (!PROGRAMS.includes(m[1] ?? '')) continue;
        const program = programOf([m[1] ?? '', ...(m[2] ?? '').trim().split(/\s+/)]);
        for (const flag of flagsIn(m[2] ?? '')) found.push({ where: `${file}:${line}`, program, flag });
      }
    }
    // option tables: a header cell "`out/lab up` option", a row's first cell naming flags
    for (const table of tables(text)) {
      const heading = /^`out\/([a-z-]+)(?: ([a-z]+))?` option/.exec(table.header[0] ?? '');
      if (!heading || !PROGRAMS.includes(heading[1] ?? '')) continue;
      const program = programOf([heading[1] ?? '', heading[2] ?? '']);
      for (const row of table.rows)
        for (const flag of flagsIn(row[0] ?? '')) found.push({ where: `${file}:${table.line}`, program, flag });
    }
  }
  return found;
}

/** The options a program's --help lists, with whether each is a boolean (which yargs also takes as --no-…). */
function helpFlags(help: string): Map<string, boolean> {
  return new Map(
    [...help.matchAll(/^\s+(?:-\w, )?--([a-z][a-z0-9-]*)\b(.*(?:\n(?!\s+-)\s+.*)*)/gm)].map((m) => [
      m[1] ?? '',
      /\[boolean\]/.test(m[2] ?? ''),
    ]),
  );
}

function flagProblems(named: ReturnType<typeof namedFlags>, helps: Map<string, Map<string, boolean>>): string[] {
  return named.flatMap(({ where, program, flag }) => {
    const options = helps.get(program);
    if (!options) return [`${where}: no --help read for ${program}`];
    if (options.has(flag)) return [];
    const negated = /^no-(.+)$/.exec(flag)?.[1];
    if (negated && options.get(negated) === true) return [];
    return [`${where}: out/${program.replace(/^lab run$/, 'lab')} has no --${flag}`];
  });
}

describe("the programs' flags", () => {
  const helps = new Map<string, Map<string, boolean>>();
  const helpOf = async (program: string) => {
    const [name, command] = program.split(' ') as [string, string | undefined];
    const { code: exit, output } = await run(name, [...(command ? [command] : []), '--help']);
    assert.equal(exit, 0, `out/${program} --help: ${output}`);
    return helpFlags(output);
  };

  it('every flag the docs give to out/lab, out/client-grpc, out/client-http or out/server is in its --help', async () => {
    const named = namedFlags(docs);
    for (const program of new Set(named.map((n) => n.program))) helps.set(program, await helpOf(program));
    for (const program of ['lab run', 'lab up', 'lab compare', 'client-grpc', 'client-http', 'server'])
      assert.ok(
        named.some((n) => n.program === program),
        `the docs name no flag of ${program}`,
      );
    assert.deepEqual(flagProblems(named, helps), []);
  });

  it('a flag a program does not have fails that check (the check can fail)', async () => {
    for (const program of ['lab up', 'server']) if (!helps.has(program)) helps.set(program, await helpOf(program));
    const page = [
      '```sh',
      'out/lab up --no-k8s-client --no-such-flag   # not --in-a-comment',
      '```',
      '| `out/server` option | |',
      '| --- | --- |',
      '| `--host`, `--made-up` | |',
      'and `out/lab up --no-dashboard-port` too',
    ].join('\n');
    assert.deepEqual(flagProblems(namedFlags(new Map([['x.md', page]])), helps), [
      'x.md:2: out/lab up has no --no-such-flag',
      'x.md:7: out/lab up has no --no-dashboard-port',
      'x.md:4: out/server has no --made-up',
    ]);
  });
});
