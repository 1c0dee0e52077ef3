import { posix } from 'node:path';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { Config } from '../../src/config/schema.js';
import { byKind, gateway, type RenderedSet } from './rendered-set.js';

/**
 * Where a rendered workload keeps acknowledged orders, and whether that can
 * lose them:
 * - SQLite (no `storage.url`) with more than one replica (replicas > 1 or an
 *   HPA allowing more): every pod would have its own orders, idempotency keys
 *   and watchers, and a pod scaled away takes its orders with it;
 * - SQLite on an emptyDir (or no volume at all): gone with the pod;
 * - SQLite needs the Recreate strategy, or a rollout runs two writers;
 * - more than one replica without `rateLimits.redisUrl`: each pod applies the
 *   limits on its own, so a caller gets them once per pod.
 */
export function checkOrderStorage(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { deployment, pod, container } = found;
  const problems: string[] = [];
  const hpa = byKind<IHorizontalPodAutoscaler>(set, 'HorizontalPodAutoscaler').find(
    (h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment.metadata?.name,
  );
  const maxReplicas = hpa ? (hpa.spec?.maxReplicas ?? 1) : (deployment.spec?.replicas ?? 1);
  const scaled = `${maxReplicas} replicas${hpa ? ' (HorizontalPodAutoscaler maxReplicas)' : ''}`;

  if (config.storage.url === undefined) {
    if (maxReplicas > 1) {
      problems.push(
        `orders are in SQLite (no storage.url) but the workload may run ${scaled}: each pod would keep its own orders; ` +
          'use overlays/production (PostgreSQL) or one replica without an HPA',
      );
    }
    const database = posix.resolve('/app', config.storage.sqlitePath);
    const mount = (container.volumeMounts ?? [])
      .filter((m) => database === m.mountPath || database.startsWith(`${m.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const volume = mount && pod.volumes?.find((v) => v.name === mount.name);
    if (!volume) problems.push(`storage.sqlitePath ${database} is on no volume: orders would be lost with the container`);
    else if (volume.emptyDir)
      problems.push(`storage.sqlitePath ${database} is on emptyDir volume "${volume.name}": acknowledged orders would be lost with the pod`);
    else if (!volume.persistentVolumeClaim)
      problems.push(`storage.sqlitePath ${database} is on volume "${volume.name}", not a PersistentVolumeClaim`);
    if (deployment.spec?.strategy?.type !== 'Recreate')
      problems.push('orders are in SQLite but the rollout strategy is not Recreate: old and new pod would both write');
  } else if (maxReplicas > 1 && config.rateLimits.redisUrl === undefined) {
    problems.push(`the workload may run ${scaled} but rateLimits.redisUrl is not set: each pod would apply the rate limits on its own`);
  }
  // Whatever the store, nothing the gateway writes to under the data directory may be an emptyDir that looks durable.
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir && mount.mountPath.startsWith('/var/lib/gatehouse')) {
      problems.push(`${mount.mountPath} is an emptyDir: anything kept there is lost with the pod`);
    }
  }
  return problems;
}
