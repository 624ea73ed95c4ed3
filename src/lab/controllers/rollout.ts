// The arithmetic of a Deployment's rolling update, as the Deployment controller does it (k8s.io/kubernetes
// pkg/controller/deployment/rolling.go and util/deployment_util.go). Pure: numbers in, numbers out.
//   - maxSurge and maxUnavailable are a count or a percentage of the desired replicas; the surge rounds
//     up, the unavailable rounds down, and when both come to 0 one pod may be unavailable
//     (ResolveFenceposts). Both default to 25 %.
//   - The new ReplicaSet grows while all ReplicaSets together stay within desired + maxSurge
//     (NewRSNewReplicas); old ReplicaSets shrink while the available pods stay at least desired −
//     maxUnavailable, unhealthy old pods first (reconcileOldReplicaSets).

export interface Fenceposts {
  maxSurge: number;
  maxUnavailable: number;
}

/** A count ("2") or a percentage ("25%") of `total`, rounded up or down. */
export function scaledValue(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: string,
): number {
  const given = value ?? fallback;
  if (typeof given === 'number') return given;
  const percent = /^(\d+)%$/.exec(given);
  if (!percent) {
    if (/^\d+$/.test(given)) return Number(given);
    throw new Error(`invalid value for IntOrString: ${JSON.stringify(given)}`);
  }
  const exact = (Number(percent[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): Fenceposts {
  const surge = scaledValue(maxSurge, desired, true, '25%');
  const unavailable = scaledValue(maxUnavailable, desired, false, '25%');
  return { maxSurge: surge, maxUnavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/** What the rolling update may scale the new ReplicaSet to now (reconcileNewReplicaSet + NewRSNewReplicas). */
export function newReplicaSetReplicas(
  desired: number,
  allReplicas: number,
  newReplicas: number,
  maxSurge: number,
): number {
  if (newReplicas >= desired) return desired;
  const maxTotal = desired + maxSurge;
  if (allReplicas >= maxTotal) return newReplicas;
  return newReplicas + Math.min(maxTotal - allReplicas, desired - newReplicas);
}

/** One old ReplicaSet, as the scale-down sees it: its size and how many of its pods are available. */
export interface OldReplicaSet {
  name: string;
  replicas: number;
  available: number;
}

/**
 * How far each old ReplicaSet may shrink now, oldest first (`old` in creation order): first its
 * unhealthy pods (cleanupUnhealthyReplicas), then available ones while enough stay available
 * (scaleDownOldReplicaSetsForRollingUpdate). Returns the new size of each old ReplicaSet that changes.
 */
export function scaleDownOldReplicaSets(
  desired: number,
  maxUnavailable: number,
  old: readonly OldReplicaSet[],
  fresh: { replicas: number; available: number },
): Map<string, number> {
  const sizes = new Map<string, number>();
  const size = (rs: OldReplicaSet) => sizes.get(rs.name) ?? rs.replicas;
  const oldPods = old.reduce((sum, rs) => sum + rs.replicas, 0);
  if (oldPods === 0) return sizes;
  const allPods = oldPods + fresh.replicas;
  const minAvailable = desired - maxUnavailable;
  const newUnavailable = fresh.replicas - fresh.available;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return sizes;

  // Unhealthy old pods first: they serve nobody, so removing them costs no availability.
  let cleaned = 0;
  for (const rs of old) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = rs.replicas - rs.available;
    if (rs.replicas === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(rs.name, rs.replicas - down);
    cleaned += down;
  }

  // Then available pods, while at least minAvailable stay available.
  const available = old.reduce((sum, rs) => sum + rs.available, 0) + fresh.available;
  if (available <= minAvailable) return sizes;
  const toScaleDown = available - minAvailable;
  let scaled = 0;
  for (const rs of old) {
    if (scaled >= toScaleDown) break;
    if (size(rs) === 0) continue;
    const down = Math.min(size(rs), toScaleDown - scaled);
    sizes.set(rs.name, size(rs) - down);
    scaled += down;
  }
  return sizes;
}

/**
 * A change of replicas while several ReplicaSets are active (a scale during a rollout): the difference
 * shared out in proportion to their sizes, the rest to the largest (getProportion, in short), keeping the
 * total within desired + maxSurge. `sets` are in creation order, newest last.
 */
export function proportionalSizes(
  sets: ReadonlyArray<{ name: string; replicas: number }>,
  desired: number,
  maxSurge: number,
): Map<string, number> {
  const total = sets.reduce((sum, rs) => sum + rs.replicas, 0);
  const allowed = desired + maxSurge;
  const delta = allowed - total;
  const sizes = new Map<string, number>();
  if (delta === 0 || total === 0) return sizes;
  let left = delta;
  for (const rs of sets) {
    const share = Math.trunc((rs.replicas * delta) / total);
    const bounded = delta > 0 ? Math.min(share, left) : Math.max(share, left, -rs.replicas);
    sizes.set(rs.name, rs.replicas + bounded);
    left -= bounded;
  }
  if (left !== 0) {
    // The leftover goes to the largest ReplicaSet (the newest on a tie), as Kubernetes does.
    const largest = [...sets].sort((a, b) => b.replicas - a.replicas || sets.indexOf(b) - sets.indexOf(a))[0];
    if (largest) sizes.set(largest.name, Math.max(0, (sizes.get(largest.name) ?? largest.replicas) + left));
  }
  return sizes;
}
