// The dashboard of `lab up`, in a real Chromium (Debian's, driven by playwright-core; no browser is
// downloaded): scaling and deleting from the page go through the Kubernetes API, the charts show the
// mesh client reaching every pod and the Service's gRPC client staying on one, kubectl's changes show
// at once. And bad input on its endpoints: clear errors, and the lab goes on serving.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { raw } from '../support/http.js';
import { waitUntil } from '../support/wait.js';
import { browse } from './support/browser.js';
import { kubectlFor } from './support/kubectl.js';
import { labUp } from './support/lab-up.js';
import { podNetwork } from './support/pod-network.js';
import { root } from './support/processes.js';
import { scrape, labelSets } from '../support/prometheus.js';

const SCREENSHOTS = `${root}.cache/screenshots`;

const readyRows = (page: Page) => page.locator('#pods tr[data-state="Ready"]');
const panel = (page: Page, name: string) => page.getByRole('region', { name });

describe('the dashboard in Chromium', () => {
  it("scale to 5 from the page: 5 pods turn ready, the mesh client and the k8s:/// client reach all 5, the Service's gRPC client stays on one; a pod deleted from the page is replaced; kubectl's scale shows at once", async () => {
    const lab = await labUp(podNetwork('dashboard', 0), ['--interval', '200']);
    const browser = await browse(`http://127.0.0.1:${lab.dashboard}/`);
    const { page } = browser;
    try {
      await page.getByText('Deployment addr-server: 1 replica, 1 ready').waitFor({ timeout: 30_000 });

      await page.getByRole('button', { name: 'Scale to 5' }).click();
      await page.getByText('kubectl scale -n grpc-lb --replicas=5 deployment/addr-server: scaled').waitFor();
      await waitUntil('5 pods are ready on the page', async () => (await readyRows(page).count()) === 5, 30_000);

      const mesh = panel(page, 'client-grpc in the mesh (L7)');
      const grpcService = panel(page, 'client-grpc through the Service (L4)');
      await mesh.getByText(/5 of 5 ready pods answered/).waitFor({ timeout: 30_000 });
      await grpcService.getByText(/1 of 5 ready pods answered/).waitFor();
      await panel(page, 'client-grpc on k8s:/// (balances by itself)')
        .getByText(/5 of 5 ready pods answered/)
        .waitFor({ timeout: 30_000 });
      assert.equal(await mesh.getByRole('listitem').count(), 5, 'the mesh client: a bar per pod');
      assert.equal(await grpcService.getByRole('listitem').count(), 1, "the Service's gRPC client: one pod");
      // The lab's /metrics agree: the in-mesh client's calls came from 5 pods, the Service's gRPC client's from 1.
      const scraped = await scrape(`http://127.0.0.1:${lab.dashboard}/metrics`);
      const podsOf = (client: string) =>
        new Set(
          labelSets(scraped, 'lab_client_calls_total')
            .filter((l) => l.client === client)
            .map((l) => l.pod_ip),
        );
      assert.equal(podsOf('client-grpc (mesh)').size, 5);
      assert.equal(podsOf('client-grpc (L4)').size, 1);

      // Round-robin: once the last 10 s all fall after the scale, each pod has a fifth of the mesh's calls.
      await waitUntil(
        "the mesh client's calls are spread evenly",
        async () => {
          const shares = await mesh
            .locator('li .figure')
            .evaluateAll((figures) => figures.map((figure) => Number.parseInt(figure.textContent ?? '', 10)));
          return shares.length === 5 && shares.every((share) => share >= 16 && share <= 24);
        },
        30_000,
      );
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: `${SCREENSHOTS}/dashboard.png`, fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      // On a phone the page fits its width once the charts have followed it (the pods table scrolls by itself).
      await page.waitForFunction(
        'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
        undefined,
        { timeout: 5000 },
      );
      await page.screenshot({ path: `${SCREENSHOTS}/dashboard-phone.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      const victim = (await readyRows(page).first().getAttribute('data-pod')) as string;
      await page.getByRole('button', { name: `Delete pod ${victim}` }).click();
      await page.getByText(`kubectl delete pod -n grpc-lb ${victim}: deleted`).waitFor();
      await page.locator(`#pods tr[data-pod="${victim}"][data-state="Terminating"]`).waitFor();
      await waitUntil(
        'the deleted pod is gone and replaced',
        async () => {
          const names = await readyRows(page).evaluateAll((rows) => rows.map((row) => row.getAttribute('data-pod')));
          return (
            names.length === 5 &&
            !names.includes(victim) &&
            (await page.locator(`#pods tr[data-pod="${victim}"]`).count()) === 0
          );
        },
        60_000,
      );

      const kubectl = kubectlFor(lab.kubeconfig);
      const scaled = await kubectl(['scale', '-n', 'grpc-lb', '--replicas=2', 'deployment/addr-server']);
      assert.equal(scaled.code, 0, scaled.stderr);
      await page.getByText(/Deployment addr-server: 2 replicas/).waitFor({ timeout: 5000 });

      assert.deepEqual(browser.problems, []);
      // The page's controls write through the lab's Kubernetes API, as kubectl does; all else comes from the
      // dashboard itself.
      const own = [`http://127.0.0.1:${lab.dashboard}/`, `http://127.0.0.1:${lab.api}/`];
      assert.deepEqual(
        browser.requests.filter((url) => !own.some((origin) => url.startsWith(origin))),
        [],
        'the page loads nothing but from the dashboard and the lab’s API (it works offline)',
      );
      assert.ok(
        browser.requests.some((url) => url.endsWith('/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server/scale')),
        'the page scales through the Kubernetes API',
      );
    } finally {
      await browser.close();
      await lab.stop();
    }
  });
});

describe("the dashboard's endpoints under bad input", () => {
  it('unknown paths, other methods, foreign hosts, garbage, floods: clear errors, and the lab goes on serving', async () => {
    const lab = await labUp(podNetwork('dashboard', 1), [
      '--no-service-clients',
      '--no-k8s-client',
      '--no-mesh-client',
    ]);
    const port = lab.dashboard;
    try {
      for (const path of ['/nope', '/events/x', '/../../etc/passwd', '/%00', `/${'a'.repeat(5000)}`]) {
        const answer = await raw(port, 'GET', path);
        assert.equal(answer.status, 404, path);
        assert.match(
          answer.text,
          /no such page: .* — the dashboard serves \/, \/events, \/metrics and \/prometheus\/targets/,
        );
      }
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const answer = await raw(port, method, '/', { 'content-type': 'application/json' }, '{"spec":{"replicas":5}}');
        assert.equal(answer.status, 405, method);
        assert.equal(answer.headers.allow, 'GET, HEAD');
        assert.match(answer.text, /the dashboard only reads \(scale and delete go to the Kubernetes API\)/);
      }
      const rebound = await raw(port, 'GET', '/events', { host: 'attacker.example:80' });
      assert.equal(rebound.status, 403);
      assert.match(rebound.text, /host "attacker\.example:80" is not this dashboard's/);
      const garbage = await new Promise<string>((resolve) => {
        let text = '';
        const socket = connect(port, '127.0.0.1', () => socket.end('\x16\x03\x01 not http at all\r\n\r\n'));
        socket
          .setEncoding('utf8')
          .on('data', (chunk: string) => (text += chunk))
          .on('close', () => resolve(text));
      });
      assert.match(garbage, /^HTTP\/1\.1 400 Bad Request/);

      // A flood of live views: the first 32 are served, the rest told why; closing them frees the places.
      const feeds = await Promise.all(
        Array.from({ length: 40 }, () => raw(port, 'GET', '/events', {}, undefined, 1500)),
      );
      assert.equal(feeds.filter((feed) => feed.status === 200 && feed.text.includes('event: hello')).length, 32);
      const refused = feeds.filter((feed) => feed.status === 503);
      assert.equal(refused.length, 8);
      assert.match(refused[0]?.text ?? '', /too many live views open \(32\); close one and reload/);
      await waitUntil(
        'a live view can be opened again',
        async () => (await raw(port, 'GET', '/events', {}, undefined, 300)).status === 200,
      );

      // A flood of requests, all at once: every one gets its answer.
      const flood = await Promise.all(
        Array.from({ length: 400 }, (_, i) => raw(port, i % 2 ? 'GET' : 'DELETE', i % 3 ? `/x${i}` : '/metrics')),
      );
      assert.deepEqual([...new Set(flood.map((answer) => answer.status))].sort(), [200, 404, 405]);

      // Bad scale values, sent as the page sends its scale (from the dashboard's origin, to the API).
      const origin = `http://127.0.0.1:${port}`;
      const scalePath = '/apis/apps/v1/namespaces/grpc-lb/deployments/addr-server/scale';
      const patch = (body: string, from = origin) =>
        raw(lab.api, 'PATCH', scalePath, { origin: from, 'content-type': 'application/merge-patch+json' }, body);
      for (const replicas of ['-1', '21', '"five"', '2.5', 'null', '1e400']) {
        const answer = await patch(`{"spec":{"replicas":${replicas}}}`);
        assert.equal(answer.status, 422, replicas);
        assert.match(String(answer.json().message), /spec\.replicas: Invalid value/);
      }
      const notJson = await patch('{"spec":');
      assert.equal(notJson.status, 400);
      const preflight = await raw(lab.api, 'OPTIONS', scalePath, {
        origin,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type',
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      const foreign = await patch('{"spec":{"replicas":3}}', 'http://attacker.example');
      assert.equal(foreign.status, 403);
      assert.equal((await patch('{"spec":{"replicas":2}}')).status, 200);

      // Still serving: the page, the metrics, the feed, the API.
      assert.equal((await raw(port, 'GET', '/')).status, 200);
      assert.equal((await raw(port, 'GET', '/metrics')).status, 200);
      assert.match(
        (await raw(port, 'GET', '/events', {}, undefined, 500)).text,
        /event: hello\ndata: .*"replicas":\{"replicas":2/,
      );
      assert.equal((await raw(lab.api, 'GET', '/version')).status, 200);
    } finally {
      await lab.stop();
    }
  });
});
