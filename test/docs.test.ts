// The docs a user follows, read as the user reads them: the walkthrough's versions agree with the files
// they drive (skaffold.yaml, k8s/kind-cluster.yml) and with what upstream supports; every relative link
// and #anchor resolves; and the README's test command is the one CI runs first. Each check is also shown
// failing on a broken input. (The flags the docs give the programs, against their --help:
// test/e2e/docs-flags.test.ts.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { anchors, code, flat, links } from './support/markdown.js';
import { pageFiles as docFiles, pages as docs } from './support/pages.js';
import { root } from './support/root.js';

// What upstream says, with where it says it.
// The first Skaffold release that reads each config version: pkg/skaffold/schema/latest/config.go is
// skaffold/v4beta13 at v2.18.0 and skaffold/v4beta14 at v2.19.0 (its CHANGELOG: "New config version").
const SKAFFOLD_FIRST_READS: Record<string, string> = { 'skaffold/v4beta14': '2.19' };
// Linkerd releases the walkthrough may pin: linkerd/website data/versions.yaml (2.20 = edge-26.6.3),
// reference/k8s-versions.md (2.20: Kubernetes 1.31-1.35), features/gateway-api.md (2.20: 1.2.1-1.5.1).
const LINKERD: Record<string, { release: string; kubernetes: [number, number]; gatewayApi: [string, string] }> = {
  'edge-26.6.3': { release: '2.20', kubernetes: [31, 35], gatewayApi: ['1.2.1', '1.5.1'] },
};
// kind v0.33.0's release notes, "Images pre-built for this release": the Kubernetes 1.35 one.
const KIND_NODE_IMAGE = 'kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0';

const read = (file: string) => readFileSync(join(root, file), 'utf8');

const version = (text: string) => text.split('.').map(Number);
const compareVersions = (a: string, b: string) => {
  const [x, y] = [version(a), version(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** Every Skaffold version the texts name must be "≥ vX.Y" with the first release that reads `apiVersion`. */
function skaffoldProblems(texts: ReadonlyMap<string, string>, apiVersion: string): string[] {
  const minimum = SKAFFOLD_FIRST_READS[apiVersion];
  if (!minimum) return [`skaffold.yaml's ${apiVersion} is not one whose first Skaffold release is known here`];
  const problems: string[] = [];
  let stated = 0;
  for (const [file, text] of texts) {
    for (const m of flat(text).matchAll(/Skaffold (≥|>=)?\s*v?(\d+(?:\.(?:\d+|x))*)/g)) {
      if (!m[1]) problems.push(`${file}: "${m[0]}" names a Skaffold version without "≥"`);
      else if (m[2] !== minimum) problems.push(`${file}: "${m[0]}", but ${apiVersion} needs Skaffold ≥ v${minimum}`);
      else stated++;
    }
  }
  if (stated === 0) problems.push(`no text says "Skaffold ≥ v${minimum}"`);
  return problems;
}

interface Walkthrough {
  /** LINKERD2_VERSION in the install command */
  pinned: string;
  /** "Linkerd 2.20 (`edge-26.6.3`) supports Kubernetes 1.31–1.35 and Gateway API 1.2.1–1.5.1" */
  stated: { release: string; edge: string; kubernetes: [number, number]; gatewayApi: [string, string] };
  /** every other "Linkerd N.M" */
  releases: string[];
  /** the Gateway API version the install command applies */
  gatewayApi: string[];
  /** Kubernetes minors named beside the kind config or minikube's --kubernetes-version */
  clusterMinors: number[];
  /** node images named in the docs */
  nodeImages: string[];
}

function walkthrough(texts: ReadonlyMap<string, string>): Walkthrough | string {
  const all = [...texts.values()].map(flat).join(' ');
  const pinned = [...new Set([...all.matchAll(/LINKERD2_VERSION=(\S+)/g)].map((m) => m[1] ?? ''))];
  if (pinned.length !== 1) return `the docs pin ${pinned.length} Linkerd versions (${pinned.join(', ')}), not one`;
  const stated = [
    ...all.matchAll(
      /Linkerd (\d+\.\d+) \(`([^`]+)`\) supports Kubernetes 1\.(\d+)[–-]1\.(\d+) and Gateway API (\d+\.\d+\.\d+)[–-](\d+\.\d+\.\d+)/g,
    ),
  ];
  if (stated.length !== 1) return `the docs state Linkerd's ranges ${stated.length} times, not once`;
  const [, release = '', edge = '', kMin, kMax, gMin = '', gMax = ''] = stated[0] ?? [];
  const codeLines = [...texts.values()].flatMap((text) => code(text).map((c) => c.text));
  const lines = [...texts.values()].flatMap((text) => text.split('\n'));
  return {
    pinned: pinned[0] ?? '',
    stated: {
      release,
      edge,
      kubernetes: [Number(kMin), Number(kMax)],
      gatewayApi: [gMin, gMax],
    },
    releases: [...all.matchAll(/Linkerd (\d+\.\d+)\b/g)].map((m) => m[1] ?? ''),
    gatewayApi: codeLines.flatMap((line) =>
      [...line.matchAll(/gateway-api\/releases\/download\/v(\d+\.\d+\.\d+)\/standard-install\.yaml/g)].map(
        (m) => m[1] ?? '',
      ),
    ),
    clusterMinors: [
      ...lines
        .filter((line) => /kind-cluster\.yml|--kubernetes-version/.test(line))
        .flatMap((line) => [...line.matchAll(/(?:Kubernetes 1\.|v1\.)(\d+)/g)].map((m) => Number(m[1]))),
      ...[...all.matchAll(/each cluster below runs Kubernetes 1\.(\d+)/g)].map((m) => Number(m[1])),
    ],
    nodeImages: [...all.matchAll(/kindest\/node:v[\d.]+@sha256:[0-9a-f]{64}/g)].map((m) => m[0]),
  };
}

/** What is wrong with the walkthrough's Linkerd, Gateway API and Kubernetes versions, given kind's node images. */
function versionProblems(w: Walkthrough, kindImages: string[]): string[] {
  const problems: string[] = [];
  const known = LINKERD[w.pinned];
  if (!known) return [`LINKERD2_VERSION=${w.pinned} is not a release whose ranges are known here`];
  const { stated } = w;
  if (stated.edge !== w.pinned) problems.push(`the ranges are stated for ${stated.edge}, the command pins ${w.pinned}`);
  if (stated.release !== known.release) problems.push(`${w.pinned} is Linkerd ${known.release}, not ${stated.release}`);
  if (stated.kubernetes.join() !== known.kubernetes.join())
    problems.push(
      `Linkerd ${known.release} supports Kubernetes 1.${known.kubernetes.join('–1.')}, not 1.${stated.kubernetes.join('–1.')}`,
    );
  if (stated.gatewayApi.join() !== known.gatewayApi.join())
    problems.push(
      `Linkerd ${known.release} accepts Gateway API ${known.gatewayApi.join('–')}, not ${stated.gatewayApi.join('–')}`,
    );
  for (const release of new Set(w.releases))
    if (release !== known.release) problems.push(`"Linkerd ${release}", but the walkthrough pins ${known.release}`);
  if (w.gatewayApi.length === 0) problems.push('no command installs the Gateway API CRDs');
  for (const gatewayApi of w.gatewayApi) {
    const [min, max] = stated.gatewayApi;
    if (compareVersions(gatewayApi, min) < 0 || compareVersions(gatewayApi, max) > 0)
      problems.push(`the command installs Gateway API ${gatewayApi}, outside ${min}–${max}`);
  }
  const [kMin, kMax] = stated.kubernetes;
  for (const image of kindImages) {
    const minor = /^kindest\/node:v1\.(\d+)\.\d+@sha256:[0-9a-f]{64}$/.exec(image);
    if (!minor) problems.push(`${image || "kind's default image"} is not a kindest/node image pinned by digest`);
    else if (Number(minor[1]) < kMin || Number(minor[1]) > kMax)
      problems.push(`the kind node runs Kubernetes 1.${minor[1]}, outside 1.${kMin}–1.${kMax}`);
  }
  const kindMinor = /^kindest\/node:v1\.(\d+)\./.exec(kindImages[0] ?? '')?.[1];
  if (w.clusterMinors.length === 0) problems.push('the docs name no Kubernetes version for the cluster');
  for (const minor of w.clusterMinors)
    if (String(minor) !== kindMinor)
      problems.push(`the docs say Kubernetes 1.${minor}, the kind node runs 1.${kindMinor}`);
  for (const image of w.nodeImages)
    if (!kindImages.includes(image))
      problems.push(`the docs name ${image}, k8s/kind-cluster.yml runs ${kindImages.join()}`);
  return problems;
}

/** Links to files that do not exist, and #anchors no heading makes. */
function linkProblems(
  files: ReadonlyMap<string, string>,
  exists = (path: string) => existsSync(join(root, path)),
): string[] {
  return [...files].flatMap(([file, text]) =>
    links(text).flatMap(({ line, target }) => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return [];
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path ? relative(root, join(root, dirname(file), decodeURIComponent(path))) : file;
      const where = `${file}:${line}: ${target}`;
      if (!exists(resolved)) return [`${where}: no ${resolved}`];
      if (anchor === undefined) return [];
      const page = files.get(resolved) ?? (resolved.endsWith('.md') ? read(resolved) : undefined);
      if (page === undefined) return [`${where}: #${anchor} in a file that is not a page`];
      return anchors(page).has(anchor) ? [] : [`${where}: no heading makes #${anchor} in ${resolved}`];
    }),
  );
}

/** The README's test command, found as CI's hook finds it: its first "npm test" or "npm run test…". */
const readmeTestCommand = (readme: string) => /npm (?:run )?test[^`\n]*/.exec(readme)?.[0].trim();

/** The test commands a CI script runs, in order: each "npm test…" or "npm run test…" outside comments. */
const ciTestCommands = (ciScript: string) =>
  ciScript
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => [...line.matchAll(/(?<![\w-])npm (?:run )?test[^\s;&|]*/g)].map((m) => m[0]));

function ciProblems(readme: string, ciScript: string): string[] {
  const command = readmeTestCommand(readme);
  if (!command) return ['the README names no test command'];
  const first = ciTestCommands(ciScript)[0];
  if (first === undefined) return [`.ci/run does not run the README's test command, ${command}`];
  return first === command ? [] : [`.ci/run runs ${first} first, not the README's test command, ${command}`];
}

const skaffold = parse(read('skaffold.yaml')) as { apiVersion: string };
const kindConfig = parse(read('k8s/kind-cluster.yml')) as { nodes: Array<{ image?: string }> };
const kindImages = kindConfig.nodes.map((node) => node.image ?? '');

describe('the cluster walkthrough: versions that fit together', () => {
  it('names Skaffold as "≥" the first release that reads skaffold.yaml, everywhere', () => {
    const texts = new Map([...docs, ['skaffold.yaml', read('skaffold.yaml')]]);
    assert.deepEqual(skaffoldProblems(texts, skaffold.apiVersion), []);
  });

  it('a Skaffold version that does not fit fails that check (the check can fail)', () => {
    const api = skaffold.apiVersion;
    assert.match(skaffoldProblems(new Map([['x.md', 'You need Skaffold 2.x.']]), api).join(), /without "≥"/);
    assert.match(skaffoldProblems(new Map([['x.md', 'Skaffold ≥ v2.18']]), api).join(), /needs Skaffold ≥ v2\.19/);
    assert.match(skaffoldProblems(new Map([['x.md', 'Skaffold ≥ v2.19']]), 'skaffold/v9').join(), /not one whose/);
    assert.match(skaffoldProblems(new Map([['x.md', 'no version']]), api).join(), /no text says/);
  });

  it('k8s/kind-cluster.yml runs the pinned Kubernetes 1.35 node image of kind v0.33.0', () => {
    assert.ok(kindImages.length > 0, 'no nodes');
    assert.deepEqual(
      kindImages,
      kindImages.map(() => KIND_NODE_IMAGE),
    );
  });

  it("pins the Linkerd it describes; its ranges hold the kind node's Kubernetes and the Gateway API it installs", () => {
    const w = walkthrough(docs);
    assert.equal(typeof w, 'object', String(w));
    assert.deepEqual(versionProblems(w as Walkthrough, kindImages), []);
  });

  it('versions that do not fit together fail that check (the check can fail)', () => {
    // A walkthrough that fits, made from the facts above rather than from the docs under test.
    const w: Walkthrough = {
      pinned: 'edge-26.6.3',
      stated: { release: '2.20', edge: 'edge-26.6.3', kubernetes: [31, 35], gatewayApi: ['1.2.1', '1.5.1'] },
      releases: ['2.20'],
      gatewayApi: ['1.2.1'],
      clusterMinors: [35],
      nodeImages: [KIND_NODE_IMAGE],
    };
    const digest = `@sha256:${'0'.repeat(64)}`;
    const problems = (change: Partial<Walkthrough>, images = [KIND_NODE_IMAGE]) =>
      versionProblems({ ...w, ...change }, images).join('\n');
    assert.equal(problems({}), '');
    assert.match(problems({ pinned: 'edge-26.8.3' }), /not a release whose ranges are known/);
    assert.match(problems({ stated: { ...w.stated, edge: 'edge-26.7.1' } }), /the command pins/);
    assert.match(problems({ stated: { ...w.stated, kubernetes: [31, 36] } }), /not 1\.31–1\.36/);
    assert.match(problems({ stated: { ...w.stated, gatewayApi: ['1.1.1', '1.5.1'] } }), /not 1\.1\.1–1\.5\.1/);
    assert.match(problems({ releases: ['2.19'] }), /"Linkerd 2\.19"/);
    assert.match(problems({ gatewayApi: ['1.6.0'] }), /outside 1\.2\.1–1\.5\.1/);
    assert.match(problems({ gatewayApi: [] }), /no command installs/);
    assert.match(problems({}, [`kindest/node:v1.37.0${digest}`]), /outside 1\.31–1\.35/);
    assert.match(problems({}, ['kindest/node:v1.35.8']), /pinned by digest/);
    assert.match(problems({}, ['']), /kind's default image/);
    assert.match(problems({ clusterMinors: [36] }), /the docs say Kubernetes 1\.36/);
    assert.match(problems({ clusterMinors: [] }), /no Kubernetes version/);
    assert.match(problems({ nodeImages: [`kindest/node:v1.35.5${digest}`] }), /k8s\/kind-cluster\.yml runs/);
    assert.match(
      String(walkthrough(new Map([['x.md', 'LINKERD2_VERSION=a LINKERD2_VERSION=b']]))),
      /2 Linkerd versions/,
    );
  });
});

describe('links', () => {
  it('every relative link and #anchor in README.md and docs/*.md resolves', () => {
    assert.deepEqual(linkProblems(docs), []);
  });

  it('a link to a missing file or heading fails that check (the check can fail)', () => {
    const page = [
      '# A page',
      '## What you’ll see, in `out/lab`',
      '[ok](#what-youll-see-in-outlab) [ok](lab.md#outlab-up-the-posts-commands-kubectl-included)',
      '[gone](missing.md) [no heading](#nowhere) [other page](lab.md#nowhere) ![img](nothing.png)',
      '`[not a link](missing-too.md)`',
    ].join('\n');
    const problems = linkProblems(new Map([...docs, ['docs/page.md', page]]), (path) =>
      path === 'docs/page.md' ? true : existsSync(join(root, path)),
    ).filter((problem) => problem.startsWith('docs/page.md'));
    assert.deepEqual(
      problems.map((problem) => problem.replace(/^docs\/page\.md:\d+: /, '')),
      [
        'missing.md: no docs/missing.md',
        '#nowhere: no heading makes #nowhere in docs/page.md',
        'lab.md#nowhere: no heading makes #nowhere in docs/lab.md',
        'nothing.png: no docs/nothing.png',
      ],
    );
  });

  it('the pages the README indexes are all there, and each docs/ page is indexed', () => {
    const indexed = links(read('README.md'))
      .map((link) => link.target.split('#')[0] ?? '')
      .filter((target) => /^docs\/[^/]+\.md$/.test(target));
    assert.deepEqual([...new Set(indexed)].sort(), docFiles.filter((file) => file !== 'README.md').sort());
    for (const file of docFiles) assert.ok(statSync(join(root, file)).size > 0, file);
  });
});

describe('the test command', () => {
  it("the README's test command is the first one .ci/run runs", () => {
    assert.equal(readmeTestCommand(read('README.md')), 'npm test');
    assert.deepEqual(ciProblems(read('README.md'), read('.ci/run')), []);
  });

  it('a README naming another command, or a CI that runs another first, fails that check (the check can fail)', () => {
    const ci = read('.ci/run');
    assert.match(
      ciProblems('Run `npm run test:unit` first.', ci).join(),
      /runs npm test first, not .* npm run test:unit/,
    );
    assert.match(ciProblems('No tests here.', ci).join(), /names no test command/);
    assert.match(ciProblems('Run `npm test`.', 'npm ci\n# npm test\n').join(), /does not run/);
    assert.match(
      ciProblems('Run `npm test`.', 'npm run test:e2e\nnpm test\n').join(),
      /runs npm run test:e2e first, not the README's test command, npm test/,
    );
  });
});
