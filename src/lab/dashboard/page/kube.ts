// The page's requests to the lab's Kubernetes API: the ones kubectl sends for `kubectl scale` and
// `kubectl delete pod`. The API trusts the dashboard's origin for them (and no other web origin).

export interface Target {
  apiPort: number;
  namespace: string;
  deployment: string;
}

const apiBase = (apiPort: number) => `${location.protocol}//${location.hostname}:${apiPort}`;

/** The API's answer: ok, or the message of its Status error. */
async function send(url: string, init: RequestInit): Promise<{ ok: true } | { ok: false; message: string }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { accept: 'application/json', ...init.headers } });
  } catch {
    return { ok: false, message: "cannot reach the lab's Kubernetes API: is the lab still running?" };
  }
  if (response.ok) return { ok: true };
  const status = (await response.json().catch(() => ({}))) as { message?: string };
  return { ok: false, message: status.message ?? `HTTP ${response.status}` };
}

/** kubectl scale --replicas=N: a merge patch of the Deployment's scale subresource. */
export function scale({ apiPort, namespace, deployment }: Target, replicas: number) {
  return send(`${apiBase(apiPort)}/apis/apps/v1/namespaces/${namespace}/deployments/${deployment}/scale`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas } }),
  });
}

/** kubectl delete pod NAME: a graceful delete; the Deployment replaces the pod. */
export function deletePod({ apiPort, namespace }: Target, name: string) {
  return send(`${apiBase(apiPort)}/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}`, {
    method: 'DELETE',
  });
}
