/** A rendered kustomization and the lookups every deploy check shares (kept apart so the checks import it, not each other). */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { K8sObject } from './k8s-schema.js';

/** The objects of one rendered kustomization, with what the checks derive from them. */
export interface RenderedSet {
  /** Overlay name (`base`, `production`, ...). */
  name: string;
  objects: K8sObject[];
}

/** Objects of one kind in a rendered set. */
export const byKind = <T>(set: RenderedSet, kind: string): T[] => set.objects.filter((o) => o.kind === kind) as unknown as T[];

/** The gateway's Deployment, pod spec and container, or a problem. */
export function gateway(
  set: RenderedSet,
): { deployment: IDeployment; pod: IPodSpec; container: IContainer; labels: Record<string, string> } | string {
  const deployments = byKind<IDeployment>(set, 'Deployment');
  if (deployments.length !== 1) return `expected one Deployment, found ${deployments.length}`;
  const deployment = deployments[0]!;
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === 'gatehouse') ?? pod?.containers[0];
  if (!pod || !container) return 'the Deployment has no pod template with a container';
  return { deployment, pod, container, labels: (deployment.spec?.template.metadata?.labels ?? {}) as Record<string, string> };
}
