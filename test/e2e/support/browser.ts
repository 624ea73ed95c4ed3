// A real Chromium (Debian's, driven by playwright-core; no browser is downloaded), headless and kept to
// what the test opens: every request the page makes is recorded, and every console error or page error.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chromium, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
// Nothing that phones home: the tests reach loopback and local files only.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browsing {
  page: Page;
  /** console errors and warnings, and uncaught page errors */
  problems: string[];
  /** the URL of every request the page made, its own first */
  requests: string[];
  close(): Promise<void>;
}

export async function browse(url: string): Promise<Browsing> {
  assert.ok(existsSync(CHROMIUM), `the browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install chromium)`);
  const context = await chromium.launchPersistentContext(mkdtempSync(`${tmpdir()}/grpc-lb-chromium-`), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(url);
  return { page, problems, requests, close: () => context.close() };
}
