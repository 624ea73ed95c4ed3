// The lab's pods as Prometheus targets, for Prometheus' HTTP service discovery (http_sd_configs): the
// pods whose template asks to be scraped with the usual annotations (prometheus.io/scrape, /port,
// /path — what the kubernetes-pods job of the community Helm chart reads), each with the labels that
// job gives: namespace and pod. Debian's Prometheus (2.42) has no Kubernetes discovery; this stands in
// for it. https://prometheus.io/docs/prometheus/latest/http_sd/
import type { KubeObject } from '../api/store.js';
import { podIsActive, statusOf, type PodStatus } from '../controllers/objects.js';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** `dial`: where a pod's port really is (the pod network). */
export function scrapeTargets(
  pods: readonly KubeObject[],
  dial: (ip: string, port: number) => { host: string; port: number },
): TargetGroup[] {
  return pods.flatMap((pod) => {
    const annotations = pod.metadata.annotations ?? {};
    const status = statusOf<PodStatus>(pod);
    const port = Number(annotations['prometheus.io/port']);
    if (
      annotations['prometheus.io/scrape'] !== 'true' ||
      !status.podIP ||
      status.phase !== 'Running' ||
      !podIsActive(pod)
    )
      return [];
    if (!Number.isInteger(port) || port < 1 || port > 65535) return [];
    const at = dial(status.podIP, port);
    return [
      {
        targets: [`${at.host}:${at.port}`],
        labels: {
          __metrics_path__: annotations['prometheus.io/path'] ?? '/metrics',
          namespace: pod.metadata.namespace ?? 'default',
          pod: pod.metadata.name,
        },
      },
    ];
  });
}
