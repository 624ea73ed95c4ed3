// The three patch types, in-process and table-driven: strategic merge patch against the bodies kubectl
// really sends (captured from kubectl 1.33 talking to the lab's API) and against cases of apimachinery's
// own strategicpatch tests (pkg/util/strategicpatch/patch_test.go, named by their Description there);
// JSON patch (RFC 6902) as `kubectl rollout undo` uses it; JSON merge patch (RFC 7386).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPatch, type PatchType } from '../src/lab/api/patch.js';
import { DEPLOYMENT, type TypeMeta } from '../src/lab/api/patch-meta.js';

const SMP: PatchType = 'application/strategic-merge-patch+json';
const JSON_PATCH: PatchType = 'application/json-patch+json';
const MERGE: PatchType = 'application/merge-patch+json';

/** apimachinery's test type MergeItem (patch_test.go), with its patchStrategy and patchMergeKey tags. */
const MERGE_ITEM: TypeMeta = { name: 'MergeItem', fields: {} };
const RETAIN_KEYS_ITEM: TypeMeta = {
  name: 'RetainKeysMergeItem',
  fields: {
    mergingIntList: { strategies: ['merge'] },
    mergingList: { strategies: ['merge'], mergeKey: 'name', type: MERGE_ITEM },
    nonMergingList: { type: MERGE_ITEM },
  },
};
Object.assign(MERGE_ITEM.fields, {
  mergingList: { strategies: ['merge'], mergeKey: 'name', type: MERGE_ITEM },
  nonMergingList: { type: MERGE_ITEM },
  mergingIntList: { strategies: ['merge'] },
  retainKeysMap: { strategies: ['retainKeys'], type: RETAIN_KEYS_ITEM },
  retainKeysMergingList: { strategies: ['merge', 'retainKeys'], mergeKey: 'name', type: MERGE_ITEM },
});

interface Case {
  name: string;
  original: unknown;
  patch: unknown;
  /** the result, or the error the patch must be refused with */
  expected: unknown | { code: number; message: RegExp };
}

const refused = (code: number, message: RegExp) => ({ code, message });
const isRefusal = (expected: unknown): expected is { code: number; message: RegExp } =>
  typeof expected === 'object' && expected !== null && 'message' in expected && expected.message instanceof RegExp;

function check(type: PatchType, schema: TypeMeta, cases: Case[]): void {
  for (const { name, original, patch, expected } of cases) {
    it(name, () => {
      const before = JSON.stringify(original);
      if (isRefusal(expected)) {
        assert.throws(() => applyPatch(type, original, patch, schema), {
          code: expected.code,
          message: expected.message,
        });
      } else {
        assert.deepEqual(applyPatch(type, original, patch, schema), expected);
      }
      assert.equal(JSON.stringify(original), before, 'the original is not changed');
    });
  }
}

/** A Deployment's template with the given containers. */
const deployment = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'addr-server', annotations: { keep: 'me' } },
  spec: { template: { metadata: { labels: { app: 'a' } }, spec: { containers, ...extra } } },
});
const server = (env?: unknown[]) => ({ name: 'addr-server', image: 'addr-server', ...(env && { env }) });
const sidecar = (env?: unknown[]) => ({ name: 'sidecar', image: 'sidecar:1', ...(env && { env }) });

describe('strategic merge patch: the bodies kubectl sends', () => {
  const A = { name: 'A', value: '1' };
  check(SMP, DEPLOYMENT, [
    {
      // kubectl set env deploy/addr-server COLOR=green FOO=bar (every container: the default selector is "*")
      name: 'set env adds and changes variables in place, in $setElementOrder/env order, in every container',
      original: deployment([server([A, { name: 'COLOR', value: 'blue' }]), sidecar()]),
      patch: {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'addr-server' }, { name: 'sidecar' }],
              containers: [
                {
                  '$setElementOrder/env': [{ name: 'A' }, { name: 'COLOR' }, { name: 'FOO' }],
                  env: [
                    { name: 'COLOR', value: 'green' },
                    { name: 'FOO', value: 'bar' },
                  ],
                  name: 'addr-server',
                },
                {
                  env: [
                    { name: 'COLOR', value: 'green' },
                    { name: 'FOO', value: 'bar' },
                  ],
                  name: 'sidecar',
                },
              ],
            },
          },
        },
      },
      expected: deployment([
        server([A, { name: 'COLOR', value: 'green' }, { name: 'FOO', value: 'bar' }]),
        sidecar([
          { name: 'COLOR', value: 'green' },
          { name: 'FOO', value: 'bar' },
        ]),
      ]),
    },
    {
      // kubectl set env deploy/addr-server COLOR-
      name: 'set env NAME- deletes the variable by its merge key ($patch: delete)',
      original: deployment([server([A, { name: 'COLOR', value: 'green' }]), sidecar()]),
      patch: {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'addr-server' }, { name: 'sidecar' }],
              containers: [
                {
                  '$setElementOrder/env': [{ name: 'A' }],
                  env: [{ $patch: 'delete', name: 'COLOR' }],
                  name: 'addr-server',
                },
              ],
            },
          },
        },
      },
      expected: deployment([server([A]), sidecar()]),
    },
    {
      // kubectl set env deploy/addr-server -c sidecar X=1
      name: 'set env -c merges into the one container, leaving the others as they are',
      original: deployment([server([A]), sidecar()]),
      patch: {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'addr-server' }, { name: 'sidecar' }],
              containers: [{ env: [{ name: 'X', value: '1' }], name: 'sidecar' }],
            },
          },
        },
      },
      expected: deployment([server([A]), sidecar([{ name: 'X', value: '1' }])]),
    },
    {
      // kubectl rollout restart deploy/addr-server (no list changed: no $setElementOrder)
      name: 'rollout restart adds the restartedAt annotation to the template, keeping the rest',
      original: deployment([server([A])]),
      patch: {
        spec: {
          template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-02T03:25:33Z' } } },
        },
      },
      expected: {
        ...deployment([server([A])]),
        spec: {
          template: {
            metadata: {
              labels: { app: 'a' },
              annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-02T03:25:33Z' },
            },
            spec: { containers: [server([A])] },
          },
        },
      },
    },
    {
      // kubectl set image deploy/addr-server addr-server=addr-server:v2
      name: 'set image changes the one container found by name',
      original: deployment([server([A]), sidecar()]),
      patch: {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'addr-server' }, { name: 'sidecar' }],
              containers: [{ image: 'addr-server:v2', name: 'addr-server' }],
            },
          },
        },
      },
      expected: deployment([{ ...server([A]), image: 'addr-server:v2' }, sidecar()]),
    },
  ]);
});

describe('strategic merge patch: the pod template and Deployment merge keys (k8s.io/api struct tags)', () => {
  check(SMP, DEPLOYMENT, [
    {
      name: 'ports merge by containerPort, keeping the live order',
      original: deployment([{ ...server(), ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 30051 }] }]),
      patch: {
        spec: {
          template: {
            spec: { containers: [{ name: 'addr-server', ports: [{ containerPort: 30051, name: 'grpc' }] }] },
          },
        },
      },
      expected: deployment([
        {
          ...server(),
          ports: [
            { containerPort: 8080, name: 'http' },
            { containerPort: 30051, name: 'grpc' },
          ],
        },
      ]),
    },
    {
      name: 'lists without a merge key are replaced whole (args, tolerations)',
      original: deployment([{ ...server(), args: ['a', 'b'] }], { tolerations: [{ key: 'x' }] }),
      patch: {
        spec: {
          template: { spec: { tolerations: [{ key: 'y' }], containers: [{ name: 'addr-server', args: ['c'] }] } },
        },
      },
      expected: deployment([{ ...server(), args: ['c'] }], { tolerations: [{ key: 'y' }] }),
    },
    {
      name: 'volumes merge by name, and $retainKeys clears the volume source it does not name',
      original: deployment([server()], {
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'keep', emptyDir: {} },
        ],
      }),
      patch: {
        spec: {
          template: {
            spec: { volumes: [{ name: 'data', $retainKeys: ['configMap', 'name'], configMap: { name: 'c' } }] },
          },
        },
      },
      expected: deployment([server()], {
        volumes: [
          { name: 'data', configMap: { name: 'c' } },
          { name: 'keep', emptyDir: {} },
        ],
      }),
    },
    {
      name: 'a containers list marked $patch: replace replaces the whole list',
      original: deployment([server(), sidecar()]),
      patch: { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
      expected: deployment([{ name: 'only', image: 'x' }]),
    },
    {
      name: 'a map marked $patch: replace is replaced, its other directives dropped',
      original: deployment([server()]),
      patch: { spec: { template: { metadata: { $patch: 'replace', labels: { app: 'b' } } } } },
      expected: {
        ...deployment([server()]),
        spec: { template: { metadata: { labels: { app: 'b' } }, spec: { containers: [server()] } } },
      },
    },
    {
      name: 'a map marked $patch: delete is emptied',
      original: deployment([server()]),
      patch: { metadata: { annotations: { $patch: 'delete' } } },
      expected: { ...deployment([server()]), metadata: { name: 'addr-server', annotations: {} } },
    },
    {
      name: 'the strategy keeps only the keys $retainKeys names: RollingUpdate to Recreate drops rollingUpdate',
      original: {
        spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } },
      },
      patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      expected: { spec: { strategy: { type: 'Recreate' } } },
    },
    {
      name: 'without $retainKeys, the strategy merges (and a Recreate keeps its rollingUpdate, as on a cluster)',
      original: { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      patch: { spec: { strategy: { type: 'Recreate' } } },
      expected: { spec: { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } },
    },
    {
      name: 'null removes a field; a field the object lacks is taken whole, nulls and directives left out',
      original: deployment([server()]),
      patch: {
        spec: { paused: true, template: { spec: { hostAliases: [{ ip: '1.2.3.4', hostnames: ['x'], extra: null }] } } },
        metadata: { annotations: null },
      },
      expected: {
        metadata: { name: 'addr-server' },
        spec: {
          paused: true,
          template: {
            metadata: { labels: { app: 'a' } },
            spec: { containers: [server()], hostAliases: [{ ip: '1.2.3.4', hostnames: ['x'] }] },
          },
        },
      },
    },
    {
      name: 'finalizers are a merging list of strings: added once, removed with $deleteFromPrimitiveList',
      original: { metadata: { finalizers: ['a', 'b'] } },
      patch: { metadata: { finalizers: ['b', 'c'], '$deleteFromPrimitiveList/finalizers': ['a'] } },
      expected: { metadata: { finalizers: ['b', 'c'] } },
    },
    {
      name: '$patch: merge is refused, as apimachinery refuses it',
      original: deployment([server()]),
      patch: { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } },
      expected: refused(400, /merging lists cannot yet be specified in the patch/),
    },
    {
      name: 'an unknown $patch value is refused',
      original: deployment([server()]),
      patch: { spec: { $patch: 'explode' } },
      expected: refused(400, /unknown patch type: explode/),
    },
    {
      name: 'an unknown directive is refused',
      original: deployment([server()]),
      patch: { spec: { $frobnicate: [] } },
      expected: refused(400, /unknown strategic merge patch directive \$frobnicate/),
    },
    {
      name: 'a container without its merge key is refused',
      original: deployment([server()]),
      patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
      expected: refused(400, /does not contain declared merge key: name/),
    },
    {
      name: 'a $setElementOrder that is not a list is refused',
      original: deployment([server()]),
      patch: { spec: { template: { spec: { '$setElementOrder/containers': 'x' } } } },
      expected: refused(400, /invalid patch format of setElementOrder list/),
    },
    {
      name: '$retainKeys must name every key the patch sets',
      original: { spec: { strategy: { type: 'RollingUpdate' } } },
      patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
      expected: refused(400, /invalid patch format of retainKeys/),
    },
    {
      name: 'lists of lists are refused with 422',
      original: { metadata: { finalizers: [['a']] } },
      patch: { metadata: { finalizers: [['b']] } },
      expected: refused(422, /lists of lists are not supported/),
    },
  ]);
});

describe("strategic merge patch: apimachinery's own cases (patch_test.go)", () => {
  check(SMP, MERGE_ITEM, [
    {
      name: 'delete items in lists of scalars (three-way)',
      original: { mergingIntList: [1, 2, 3, 4] },
      patch: { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
      expected: { mergingIntList: [1, 2, 4] },
    },
    {
      name: 'set elements order in a list with server-only items (three-way)',
      original: {
        mergingList: [
          { name: 1, other: 'a' },
          { name: 3, value: 3 },
          { name: 4, value: 4 },
          { name: 2, value: 2 },
          { name: 9 },
        ],
      },
      patch: { '$setElementOrder/mergingList': [{ name: 4 }, { name: 2 }, { name: 3 }, { name: 1 }] },
      expected: {
        mergingList: [
          { name: 4, value: 4 },
          { name: 2, value: 2 },
          { name: 3, value: 3 },
          { name: 1, other: 'a' },
          { name: 9 },
        ],
      },
    },
    {
      name: 'add map and delete map from merging list (three-way)',
      original: { mergingList: [{ name: 1 }, { name: 2, other: 'b' }, { name: 4, other: 'c' }] },
      patch: {
        '$setElementOrder/mergingList': [{ name: 2 }, { name: 3 }],
        mergingList: [{ name: 3 }, { name: 1, $patch: 'delete' }],
      },
      expected: { mergingList: [{ name: 2, other: 'b' }, { name: 4, other: 'c' }, { name: 3 }] },
    },
    {
      name: 'set elements order in a int list with server-only items 3 (three-way)',
      original: { mergingIntList: [1, 2, 7, 9, 8, 3, 4] },
      patch: { '$setElementOrder/mergingIntList': [2, 1, 4, 3] },
      expected: { mergingIntList: [2, 1, 7, 9, 8, 4, 3] },
    },
    {
      name: 'replace non merging list nested in merging list (three-way)',
      original: {
        mergingList: [
          { name: 1, other: 'a', nonMergingList: [{ name: 1 }, { name: 2, value: 2 }] },
          { name: 2, other: 'b' },
        ],
      },
      patch: {
        '$setElementOrder/mergingList': [{ name: 1 }, { name: 2 }],
        mergingList: [{ name: 1, nonMergingList: [{ name: 1, value: 1 }] }],
      },
      expected: {
        mergingList: [
          { name: 1, other: 'a', nonMergingList: [{ name: 1, value: 1 }] },
          { name: 2, other: 'b' },
        ],
      },
    },
    {
      name: 'retainKeys map deletes a field (two-way)',
      original: { retainKeysMap: { name: 'foo', value: 'bar' } },
      patch: { retainKeysMap: { $retainKeys: ['name'], value: null } },
      expected: { retainKeysMap: { name: 'foo' } },
    },
    {
      name: 'retainKeys map should clear defaulted field (three-way)',
      original: { retainKeysMap: { value: 'foo' } },
      patch: { retainKeysMap: { $retainKeys: ['other'], other: 'bar' } },
      expected: { retainKeysMap: { other: 'bar' } },
    },
    {
      name: 'delete all duplicate entries in a merging list',
      original: { mergingList: [{ name: 1 }, { name: 1 }, { name: 2, value: 'a' }, { name: 3 }, { name: 3 }] },
      patch: {
        mergingList: [
          { name: 1, $patch: 'delete' },
          { name: 3, $patch: 'delete' },
        ],
      },
      expected: { mergingList: [{ name: 2, value: 'a' }] },
    },
    {
      name: 'delete all items from merging list',
      original: { mergingList: [{ name: 1 }, { name: 2 }] },
      patch: { mergingList: [{ $patch: 'replace' }] },
      expected: { mergingList: [] },
    },
    {
      name: 'add key and delete all keys from map',
      original: { name: 1, value: 1 },
      patch: { other: 'a', $patch: 'replace' },
      expected: { other: 'a' },
    },
    {
      name: 'unique scalars when merging lists',
      original: { mergingIntList: [1, 2] },
      patch: { mergingIntList: [2, 3] },
      expected: { mergingIntList: [1, 2, 3] },
    },
    {
      name: '$deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list',
      original: { mergingIntList: [1, 2] },
      patch: { '$deleteFromPrimitiveList/mergingIntList': [3] },
      expected: { mergingIntList: [1, 2] },
    },
    {
      name: 'should check if order in $setElementOrder and patch list match',
      original: { mergingList: [{ name: 1 }, { name: 3 }, { name: 2 }] },
      patch: {
        '$setElementOrder/mergingList': [{ name: 1 }, { name: 2 }, { name: 3 }],
        mergingList: [
          { name: 3, value: 3 },
          { name: 1, value: 1 },
        ],
      },
      expected: refused(400, /doesn't match/),
    },
    {
      name: 'missing merge key should error out',
      original: { mergingList: [{ name: 1, value: 'a' }] },
      patch: { mergingList: [{ value: 'b' }] },
      expected: refused(400, /does not contain declared merge key/),
    },
  ]);
});

describe('JSON patch (RFC 6902)', () => {
  const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'v2' }] } };
  const object = {
    metadata: { name: 'd', annotations: { 'deployment.kubernetes.io/revision': '2' } },
    spec: { replicas: 2, template },
  };
  check(JSON_PATCH, DEPLOYMENT, [
    {
      // The body kubectl rollout undo sends (kubectl pkg/polymorphichelpers/rollback.go getDeploymentPatch).
      name: 'rollout undo: replace /spec/template and /metadata/annotations, each a whole subtree',
      original: object,
      patch: [
        {
          op: 'replace',
          path: '/spec/template',
          value: {
            metadata: { creationTimestamp: null, labels: { app: 'a' } },
            spec: { containers: [{ name: 'c', image: 'v1', resources: {} }] },
          },
        },
        {
          op: 'replace',
          path: '/metadata/annotations',
          value: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v1' },
        },
      ],
      expected: {
        metadata: {
          name: 'd',
          annotations: { 'deployment.kubernetes.io/revision': '2', 'kubernetes.io/change-cause': 'v1' },
        },
        spec: {
          replicas: 2,
          template: {
            metadata: { creationTimestamp: null, labels: { app: 'a' } },
            spec: { containers: [{ name: 'c', image: 'v1', resources: {} }] },
          },
        },
      },
    },
    {
      name: 'add, remove, copy, move and test, with array indices and -',
      original: { a: [1, 2], b: { c: 1 } },
      patch: [
        { op: 'add', path: '/a/1', value: 9 },
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'test', path: '/a', value: [1, 9, 2, 3] },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'move', from: '/b/c', path: '/e' },
        { op: 'remove', path: '/a/0' },
        { op: 'test', path: '/d', value: { c: 1 } },
        { op: 'add', path: '/f~1g~0h', value: true },
      ],
      expected: { a: [9, 2, 3], b: {}, d: { c: 1 }, e: 1, 'f/g~h': true },
    },
    {
      name: 'test compares structure, not key order',
      original: { a: { x: 1, y: 2 } },
      patch: [{ op: 'test', path: '/a', value: { y: 2, x: 1 } }],
      expected: { a: { x: 1, y: 2 } },
    },
    {
      name: 'replace needs the path to exist',
      original: { a: 1 },
      patch: [{ op: 'replace', path: '/b', value: 1 }],
      expected: refused(422, /replace operation does not apply: doc is missing key: \/b/),
    },
    {
      name: 'add needs the parent to exist',
      original: { a: 1 },
      patch: [{ op: 'add', path: '/b/c', value: 1 }],
      expected: refused(422, /add operation does not apply/),
    },
    {
      name: 'an index past the end is refused',
      original: { a: [1] },
      patch: [{ op: 'add', path: '/a/2', value: 1 }],
      expected: refused(422, /missing index/),
    },
    {
      name: 'an index with a leading zero is no index',
      original: { a: [1, 2] },
      patch: [{ op: 'replace', path: '/a/01', value: 1 }],
      expected: refused(422, /missing key/),
    },
    {
      name: 'length is not an element',
      original: { a: [1, 2] },
      patch: [{ op: 'test', path: '/a/length', value: 2 }],
      expected: refused(422, /testing value \/a\/length failed/),
    },
    {
      name: 'a failed test fails the patch',
      original: { a: 1 },
      patch: [{ op: 'test', path: '/a', value: 2 }],
      expected: refused(422, /testing value/),
    },
    {
      name: 'a value cannot move into itself',
      original: { a: { b: 1 } },
      patch: [{ op: 'move', from: '/a', path: '/a/b/c' }],
      expected: refused(422, /inside/),
    },
    {
      name: 'a pointer must start with /',
      original: {},
      patch: [{ op: 'add', path: 'a', value: 1 }],
      expected: refused(400, /invalid JSON pointer/),
    },
    {
      name: 'an unknown op is refused',
      original: {},
      patch: [{ op: 'frob', path: '/a' }],
      expected: refused(400, /unexpected kind of JSON patch operation/),
    },
    {
      name: 'a patch is a list',
      original: {},
      patch: { op: 'add' },
      expected: refused(400, /a JSON patch is a list of operations/),
    },
    {
      name: 'more than 10,000 operations is 413',
      original: { a: 1 },
      patch: Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/a', value: 1 })),
      expected: refused(413, /maximum operations in a JSON patch is 10000, got 10001/),
    },
  ]);
});

describe('JSON merge patch (RFC 7386)', () => {
  check(MERGE, DEPLOYMENT, [
    {
      name: 'maps merge, null removes, lists are replaced whole',
      original: {
        spec: { replicas: 1, paused: true, template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } },
      },
      patch: { spec: { replicas: 5, paused: null, template: { spec: { containers: [{ name: 'b', image: 'x' }] } } } },
      expected: { spec: { replicas: 5, template: { spec: { containers: [{ name: 'b', image: 'x' }] } } } },
    },
    { name: 'a merge patch is an object', original: {}, patch: [1], expected: refused(400, /must be a JSON object/) },
  ]);
});

describe('no patch reaches a prototype', () => {
  const cases: Array<[PatchType, unknown]> = [
    [JSON_PATCH, [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }]],
    [JSON_PATCH, [{ op: 'add', path: '/constructor/prototype/polluted', value: 'yes' }]],
    [JSON_PATCH, [{ op: 'add', path: '/spec', value: JSON.parse('{"__proto__":{"polluted":"yes"}}') }]],
    [MERGE, JSON.parse('{"__proto__":{"polluted":"yes"}}')],
    [MERGE, { constructor: { prototype: { polluted: 'yes' } } }],
    [SMP, JSON.parse('{"spec":{"__proto__":{"polluted":"yes"}}}')],
    [SMP, { spec: { template: { spec: { containers: [{ name: 'c', prototype: { polluted: 'yes' } }] } } } }],
  ];
  for (const [type, patch] of cases) {
    it(`${type}: ${JSON.stringify(patch)} is refused and Object.prototype is untouched`, () => {
      try {
        assert.throws(() => applyPatch(type, { spec: { replicas: 1 } }, patch, DEPLOYMENT), {
          code: 400,
          message: /is not accepted: it names a JavaScript object's prototype/,
        });
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      } finally {
        delete (Object.prototype as Record<string, unknown>).polluted;
      }
    });
  }
});
