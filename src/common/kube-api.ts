// How the kit's programs reach a Kubernetes API through @kubernetes/client-node: which config they use
// (never a guessed one), and an API error said in one line. The client-node module is passed in: callers
// import it only when they need it (it is slow to load).
import type * as K8s from '@kubernetes/client-node';
import { errorText } from './cli.js';

type ClientNode = typeof K8s;

/** KUBECONFIG, else ~/.kube/config, else the pod's service account; nothing else (no guessing localhost:8080). */
export function loadKubeConfig(k8s: ClientNode): K8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromDefault();
  // loadFromDefault's last resort is an unauthenticated http://localhost:8080.
  if (kubeConfig.getCurrentContext() === 'loaded-context') {
    throw new Error(
      'no kubeconfig: set KUBECONFIG or write ~/.kube/config, or run in a pod with a service account token',
    );
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new Error(`the kubeconfig's current context "${kubeConfig.getCurrentContext()}" names no cluster`);
  }
  return kubeConfig;
}

/** One line: the API's own Status message when it sent one, else the network error and its cause. */
export function apiErrorText(error: unknown): string {
  const apiError = error as { code?: unknown; body?: unknown; cause?: { code?: string; message?: string } };
  if (typeof apiError.code === 'number') {
    try {
      const status = (typeof apiError.body === 'string' ? JSON.parse(apiError.body) : apiError.body) as {
        message?: string;
      };
      if (status?.message) return `HTTP ${apiError.code}: ${status.message}`;
    } catch {
      // not a Status: fall through
    }
    return `HTTP ${apiError.code}`;
  }
  const cause = apiError.cause?.code ?? apiError.cause?.message;
  return cause ? `${errorText(error)} (${cause})` : (errorText(error).split('\n')[0] ?? '');
}
