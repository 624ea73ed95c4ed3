// The manifests the lab runs: the kit's own load, with a one-line note for each field the lab does not
// honour; a manifest it cannot run is one error naming the file, the object and the field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError, loadManifests, parseManifests } from '../src/lab/manifests.js';

const deployment = (container: string, more = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: addr-server}
spec:
  selector: {matchLabels: {app: addr-server}}
  template:
    metadata: {labels: {app: addr-server}}
    spec:${more}
      containers:
        - name: addr-server
          image: addr-server
${container}`;

const refused = (text: string, message: RegExp) =>
  assert.throws(
    () => parseManifests(text, 'mine.yml'),
    (error: unknown) => {
      assert.ok(error instanceof ManifestError, String(error));
      assert.match(error.message, message);
      return true;
    },
  );

describe('the lab’s manifests', () => {
  it('loads the kit’s k8s/server.yml, named as the user would, with a note for limits and security context', () => {
    const manifests = loadManifests(`${process.cwd()}/k8s/server.yml`);
    assert.equal(manifests.file, 'k8s/server.yml');
    assert.deepEqual(manifests.objects.map((o) => o.kind).sort(), ['Deployment', 'Service']);
    assert.equal(manifests.notes.length, 1, manifests.notes.join('\n'));
    assert.match(manifests.notes[0] as string, /^k8s\/server\.yml: Deployment addr-server: not applied in the lab: /);
    assert.match(manifests.notes[0] as string, /resources \(no cgroups/);
  });

  it('a file it cannot read is one line naming it', () => {
    assert.throws(
      () => loadManifests('/nonexistent/server.yml'),
      (error: unknown) =>
        error instanceof ManifestError && error.message === '/nonexistent/server.yml: cannot read it (ENOENT)',
    );
  });

  it('refuses what it cannot run, naming the object and the field', () => {
    refused(
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\n',
      /mine\.yml: CronJob nightly: the lab runs Deployments and Services/,
    );
    refused('kind: Service\nmetadata: {name: x}\n', /document 1 needs apiVersion and kind/);
    refused('a: [1\n', /document 1 is not valid YAML/);
    refused(
      deployment('          env: [{name: ADDR_SERVER_DELAY_MS, value: 5}]'),
      /containers\[0\]\.env\[0\]\.value must be a string \(quote numbers\)/,
    );
    refused(
      deployment('          readinessProbe: {exec: {command: [true]}}'),
      /containers\[0\]\.readinessProbe must be grpc, httpGet or tcpSocket for the lab \(no exec\)/,
    );
    refused(
      deployment('          env: [{name: X, valueFrom: {secretKeyRef: {name: s, key: k}}}]'),
      /env\[0\]\.valueFrom is not supported by the lab \(only fieldRef\)/,
    );
    refused(deployment('').replace('image: addr-server', 'image: nginx:1.29'), /image must be one of the kit's images/);
  });

  it('runs what it can and says what it does not honour, one line each', () => {
    const { notes } = parseManifests(
      deployment(
        '          command: [sh]\n          lifecycle: {preStop: {sleep: {seconds: 5}}}',
        '\n      securityContext: {runAsNonRoot: true}',
      ) + '\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: reader}\n',
      'mine.yml',
    );
    assert.deepEqual(notes, [
      "mine.yml: Deployment addr-server: spec.template.spec.containers[0].command is not run: the lab runs the image's program",
      'mine.yml: Deployment addr-server: not applied in the lab: securityContext (processes run as the lab’s own user); lifecycle (no lifecycle hooks)',
      'mine.yml: ServiceAccount reader: the lab enforces no RBAC: every client may do everything',
    ]);
  });
});
