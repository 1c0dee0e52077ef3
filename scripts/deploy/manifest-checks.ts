/**
 * What the rendered Gatehouse manifests must say, beyond schema validity: the
 * probes, the drain timing, the hardening, and that manifests, production
 * config and Prometheus agree on ports, paths and names. Each check returns
 * its problems as lines; an empty list passes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import YAML from 'yaml';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { checkOrderStorage } from './storage-checks.js';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { loadConfig, ConfigError } from '../../src/config/load.js';
import { loadPolicyDocument } from '../../src/config/load-policy.js';
import type { Config } from '../../src/config/schema.js';
import { byKind, gateway, type RenderedSet } from './rendered-set.js';

/** The plaintext health-only port the issue fixes for the kubelet's grpc probes. */
export const HEALTH_PORT = 8081;
/** Engine warm-up the startupProbe must allow, in seconds. */
export const STARTUP_BUDGET_SECONDS = 120;
/** Namespace label the admin and health ports are opened to. */
export const MONITORING_NAMESPACE = 'monitoring';

/** One named check and its problems. */
export interface CheckResult {
  name: string;
  problems: string[];
}

/** True when every key of `selector` is in `labels` with the same value (and the selector is not empty). */
function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}

/** Seconds a preStop hook waits (`sleep N` exec or the native sleep action), or undefined. */
export function preStopSeconds(container: IContainer): number | undefined {
  const preStop = container.lifecycle?.preStop as { exec?: { command?: string[] }; sleep?: { seconds?: number } } | undefined;
  if (preStop?.sleep?.seconds !== undefined) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  const sleepAt = command.findIndex((part) => /(^|\/)sleep$/.test(part));
  if (sleepAt < 0) return undefined;
  const seconds = Number(command[sleepAt + 1]);
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** Stand-ins for settings a pod reads from Secrets, shaped as the config schema expects. */
const SECRET_STAND_INS: Readonly<Record<string, string>> = Object.freeze({
  GATEHOUSE_STORAGE__URL: 'postgres://from-secret.invalid:5432/gatehouse',
  GATEHOUSE_RATE_LIMITS__REDIS_URL: 'redis://from-secret.invalid:6379',
});

/** The value an env var will have in the pod, where it can be known without a cluster. */
function envValue(variable: NonNullable<IContainer['env']>[number], container: IContainer): string | undefined {
  if (variable.value !== undefined) return variable.value;
  const resource = variable.valueFrom?.resourceFieldRef;
  if (resource) {
    // e.g. workers from requests.cpu: the kubelet rounds up to whole divisors.
    const quantity = (container.resources?.requests as Record<string, string | number> | undefined)?.[resource.resource.replace(/^requests\./, '')];
    if (quantity === undefined) return undefined;
    const toNumber = (q: string | number): number => (typeof q === 'number' ? q : q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    return String(Math.ceil(toNumber(quantity) / toNumber(resource.divisor ?? 1)));
  }
  if (variable.valueFrom?.fieldRef) return 'from-field-ref';
  // A Secret's value is unknown here; a well-formed stand-in shows the setting is made (and must validate).
  if (variable.valueFrom?.secretKeyRef) return SECRET_STAND_INS[variable.name] ?? 'from-secret';
  return undefined;
}

/** The text of a file the pod reads from a ConfigMap volume (by mount path), or a problem. */
export function configMapFile(set: RenderedSet, path: string): { text: string; configMap: string } | string {
  const found = gateway(set);
  if (typeof found === 'string') return found;
  const { pod, container } = found;
  const mount = container.volumeMounts?.find((m) => m.mountPath === path || path.startsWith(`${m.mountPath}/`));
  if (!mount) return `no volume is mounted at ${path}`;
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  const key = mount.subPath ?? posix.relative(mount.mountPath, path);
  const configMap = byKind<IConfigMap>(set, 'ConfigMap').find((c) => c.metadata?.name === volume?.configMap?.name);
  const text = configMap?.data?.[key];
  if (text === undefined) return `${path} comes from volume ${mount.name}, which holds no ConfigMap key ${key}`;
  return { text, configMap: configMap?.metadata?.name ?? '?' };
}

/** Runs `use` with `text` written to a temporary file, which is removed afterwards. */
function withTemporaryFile<T>(text: string, use: (file: string) => T): T {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-check-'));
  try {
    const file = join(directory, 'file.yaml');
    writeFileSync(file, text);
    return use(file);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Loads the config the pod will start with: the ConfigMap file named by
 * `--config`, plus the container's GATEHOUSE_* environment, through the
 * server's own loader and schema. An unknown or invalid key fails here.
 */
export function loadPodConfig(set: RenderedSet): { config: Config; configPath: string } | string {
  const found = gateway(set);
  if (typeof found === 'string') return found;
  const { container } = found;
  const args = [...(container.command ?? []), ...(container.args ?? [])];
  const configPath = args[args.indexOf('--config') + 1];
  if (!args.includes('--config') || !configPath) return 'the container does not pass --config <file>';
  const file = configMapFile(set, configPath);
  if (typeof file === 'string') return file;
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const value = envValue(variable, container);
    if (value !== undefined) env[variable.name] = value;
  }
  try {
    return { config: withTemporaryFile(file.text, (path) => loadConfig({ file: path, env })), configPath };
  } catch (error) {
    return error instanceof ConfigError ? `${configPath} (ConfigMap ${file.configMap}): ${error.message}` : String(error);
  }
}

/** The policy file loads through the server's loader; tokens can be verified; no development key; workers fit the CPU request. */
export function checkAuthAndWorkers(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const problems: string[] = [];
  const policyFile = configMapFile(set, config.policy.file);
  if (typeof policyFile === 'string') problems.push(`policy.file: ${policyFile}`);
  else {
    try {
      withTemporaryFile(policyFile.text, (file) => loadPolicyDocument({ ...config.policy, file }));
    } catch (error) {
      problems.push(error instanceof ConfigError ? `${config.policy.file} (ConfigMap ${policyFile.configMap}): ${error.message}` : String(error));
    }
  }
  const auth = config.auth;
  if (auth.devSigningKey.enabled) problems.push('auth.devSigningKey is enabled: anyone with the development key could mint tokens');
  if (auth.hmacKeys.length + auth.publicKeys.length + auth.jwksFiles.length + auth.jwksUrls.length === 0) {
    problems.push('auth configures no verification key: every call that needs a token would be refused');
  }
  // serve's default (0) counts the node's cores, not the container's share.
  const cpu = found.container.resources?.requests?.cpu;
  const cores =
    cpu === undefined
      ? undefined
      : Math.ceil(typeof cpu === 'number' ? cpu : String(cpu).endsWith('m') ? Number(String(cpu).slice(0, -1)) / 1000 : Number(cpu));
  if (config.server.workers === 0) problems.push('server.workers is 0 (one per node core): pin it to the CPU request (GATEHOUSE_SERVER__WORKERS)');
  else if (cores !== undefined && config.server.workers > cores)
    problems.push(`server.workers ${config.server.workers} exceeds the CPU request ${cpu}`);
  return problems;
}

/** Probes: native grpc on the plaintext health-only port, a startup budget for warm-up, readiness on the draining signal. */
export function checkProbes(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { container } = found;
  const problems: string[] = [];
  if (config.health.port !== HEALTH_PORT) problems.push(`config health.port is ${config.health.port}, not ${HEALTH_PORT}`);
  if (!config.health.enabled) problems.push('config health.enabled is false: nothing answers the probes');
  if (config.health.port === config.server.port)
    problems.push('the health-only port is the mTLS port: the kubelet cannot present a client certificate');
  const ports = (container.ports ?? []).map((p) => p.containerPort);
  if (!ports.includes(config.health.port)) problems.push(`no containerPort ${config.health.port} (health-only listener)`);
  const probes: [string, IProbe | undefined][] = [
    ['startupProbe', container.startupProbe],
    ['readinessProbe', container.readinessProbe],
    ['livenessProbe', container.livenessProbe],
  ];
  for (const [name, probe] of probes) {
    if (!probe) {
      problems.push(`${name} is missing`);
      continue;
    }
    if (!probe.grpc) problems.push(`${name} is not a grpc probe`);
    else if (probe.grpc.port !== config.health.port)
      problems.push(`${name} targets port ${probe.grpc.port}, not the health-only port ${config.health.port}`);
    for (const other of ['httpGet', 'tcpSocket', 'exec'] as const) if (probe[other]) problems.push(`${name} also has ${other}`);
  }
  const startup = container.startupProbe;
  if (startup) {
    const budget = (startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3);
    if (budget < STARTUP_BUDGET_SECONDS) problems.push(`startupProbe allows ${budget} s, less than the ${STARTUP_BUDGET_SECONDS} s engine warm-up`);
  }
  // Readiness must follow the server-wide status, which turns NOT_SERVING on drain.
  if ((container.readinessProbe?.grpc?.service ?? '') !== '') problems.push('readinessProbe asks a single service, not "" (the draining signal)');
  return problems;
}

/** Shutdown timing: preStop, then the server's drain, must end before the kubelet's SIGKILL. */
export function checkDrainTiming(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { pod, container } = found;
  const problems: string[] = [];
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const preStop = preStopSeconds(container);
  const drain = config.server.shutdownGraceMs / 1000;
  if (preStop === undefined) problems.push('no preStop sleep: endpoints may still send new calls after SIGTERM');
  else if (drain >= grace - preStop) {
    problems.push(`server.shutdownGraceMs ${drain} s must be below terminationGracePeriodSeconds ${grace} s minus preStop ${preStop} s`);
  }
  const liveness = container.livenessProbe;
  if (liveness) {
    const tolerated = (liveness.periodSeconds ?? 10) * (liveness.failureThreshold ?? 3);
    if (tolerated < drain + (preStop ?? 0)) problems.push(`livenessProbe gives up after ${tolerated} s, before a drain of ${drain} s ends`);
  }
  return problems;
}

/** Non-root, no escalation, read-only root, no capabilities, RuntimeDefault seccomp; and the writable paths that implies. */
export function checkHardening(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { pod, container } = found;
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  const context = container.securityContext ?? {};
  if ((context.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push('runAsNonRoot is not true');
  if ((context.runAsUser ?? podContext.runAsUser) === 0) problems.push('runAsUser is 0');
  if (context.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation is not false');
  if (context.privileged === true) problems.push('the container is privileged');
  if (context.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem is not true');
  if (!context.capabilities?.drop?.includes('ALL')) problems.push('capabilities do not drop ALL');
  if ((context.capabilities?.add ?? []).length > 0) problems.push(`capabilities add ${context.capabilities?.add?.join(', ')}`);
  if ((context.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault') problems.push('seccompProfile is not RuntimeDefault');
  if (pod.automountServiceAccountToken !== false) problems.push('a service account token is mounted (automountServiceAccountToken is not false)');
  // Service links put GATEHOUSE_PORT=tcp://... into the environment, and the
  // config loader would read it as the unknown key `port` and refuse to start.
  if (pod.enableServiceLinks !== false) problems.push('enableServiceLinks is not false: GATEHOUSE_* service variables would break config loading');
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  if (requests.cpu === undefined || requests.memory === undefined) problems.push('resources.requests needs cpu and memory');
  if (limits.memory === undefined) problems.push('resources.limits needs memory');
  // A read-only root needs writable mounts where the gateway writes.
  const writable = (path: string): boolean =>
    (container.volumeMounts ?? []).some((m) => !m.readOnly && (path === m.mountPath || path.startsWith(`${m.mountPath}/`)));
  if (!writable('/tmp/x')) problems.push('/tmp is not a writable volume (SQLite temporary files)');
  const database = posix.resolve('/app', config.storage.sqlitePath);
  if (config.storage.url === undefined && !writable(database)) problems.push(`storage.sqlitePath ${database} is not on a writable volume`);
  return problems;
}

/** Spread across nodes: a hostname topology spread constraint and pod anti-affinity, both selecting our pods. */
export function checkSpread(set: RenderedSet): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { deployment, pod, labels } = found;
  const problems: string[] = [];
  const spread = (pod.topologySpreadConstraints ?? []).find((c) => c.topologyKey === 'kubernetes.io/hostname');
  if (!spread) problems.push('no topologySpreadConstraint over kubernetes.io/hostname');
  else if (!selects(spread.labelSelector?.matchLabels as Record<string, string>, labels))
    problems.push('the hostname spread constraint does not select the pods');
  const anti = pod.affinity?.podAntiAffinity;
  const terms = [
    ...(anti?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm),
    ...(anti?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
  ];
  if (!terms.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector?.matchLabels as Record<string, string>, labels))) {
    problems.push('no podAntiAffinity over kubernetes.io/hostname selecting the pods');
  }
  // Recreate is the single-replica SQLite layout's (checkOrderStorage requires it there); every other rollout keeps capacity.
  if (deployment.spec?.strategy?.type !== 'Recreate' && deployment.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0) {
    problems.push('rollingUpdate.maxUnavailable is not 0: a rollout would drop capacity before new pods are warm');
  }
  return problems;
}

/** Certificates: cert-manager's Secret mounted as a directory (so renewals reach the files) where the config looks. */
export function checkCertificates(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { pod, container } = found;
  const problems: string[] = [];
  const certificates = byKind<ICertificate>(set, 'Certificate');
  if (certificates.length !== 1) return [`expected one cert-manager Certificate, found ${certificates.length}`];
  const certificate = certificates[0]!;
  const spec = certificate.spec;
  if (!spec) return ['the Certificate has no spec'];
  const tls = config.server.tls;
  if (tls.mode === 'insecure') problems.push('server.tls.mode is insecure');
  if (tls.generateDevCertificates) problems.push('server.tls.generateDevCertificates is on in the deployed config');
  const files: [string, string][] = [
    ['certFile', tls.certFile],
    ['keyFile', tls.keyFile],
  ];
  if (tls.mode === 'mtls') files.push(['clientCaFile', tls.clientCaFile]);
  const secretsFor = new Map<string, Set<string>>();
  for (const [key, file] of files) {
    const mount = container.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`) || file === m.mountPath);
    if (!mount) {
      problems.push(`server.tls.${key} ${file} is on no volume`);
      continue;
    }
    if (mount.subPath || mount.subPathExpr)
      problems.push(`server.tls.${key} ${file} is mounted with subPath: the kubelet never updates it, so rotation needs a restart`);
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    const name = posix.relative(mount.mountPath, file);
    const sources =
      volume?.projected?.sources?.map((s) => s.secret).filter((s) => s !== undefined) ??
      (volume?.secret ? [{ name: volume.secret.secretName, items: volume.secret.items }] : []);
    const providers = sources.filter((s) => !s.items || s.items.some((item) => item.path === name));
    if (providers.length === 0) problems.push(`server.tls.${key} ${file}: volume ${mount.name} provides no ${name} from a Secret`);
    secretsFor.set(key, new Set(providers.map((p) => p.name ?? '')));
  }
  for (const key of ['certFile', 'keyFile']) {
    if (secretsFor.has(key) && !secretsFor.get(key)!.has(spec.secretName)) {
      problems.push(`server.tls.${key} does not come from the Certificate's Secret ${spec.secretName}`);
    }
  }
  const namespace = certificate.metadata?.namespace ?? 'default';
  for (const service of byKind<IService>(set, 'Service')) {
    const name = `${service.metadata?.name}.${namespace}.svc`;
    if (!spec.dnsNames?.includes(name)) problems.push(`Certificate dnsNames lack ${name}: clients dialling that Service fail hostname verification`);
  }
  if (!spec.issuerRef?.name) problems.push('Certificate has no issuerRef');
  return problems;
}

/** Services: the mTLS port behind a ClusterIP Service and a headless one, both selecting the pods. */
export function checkServices(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { container, labels } = found;
  const problems: string[] = [];
  const services = byKind<IService>(set, 'Service');
  const reachesMain = (service: IService): boolean =>
    (service.spec?.ports ?? []).some((port) => {
      const target = port.targetPort ?? port.port;
      const resolved = typeof target === 'string' ? container.ports?.find((p) => p.name === target)?.containerPort : target;
      return resolved === config.server.port;
    });
  const headless = services.filter((s) => s.spec?.clusterIP === 'None');
  const virtual = services.filter((s) => s.spec?.clusterIP !== 'None');
  if (!virtual.some(reachesMain)) problems.push(`no ClusterIP Service reaches the mTLS port ${config.server.port}`);
  if (!headless.some(reachesMain)) problems.push(`no headless Service (clusterIP: None) reaches the mTLS port ${config.server.port}`);
  if (headless.some((s) => s.spec?.publishNotReadyAddresses)) problems.push('the headless Service publishes pods that are not ready');
  for (const service of services) {
    if (!selects(service.spec?.selector as Record<string, string>, labels))
      problems.push(`Service ${service.metadata?.name} does not select the pods`);
    for (const port of service.spec?.ports ?? []) {
      if (port.port === config.admin.port || port.port === config.health.port)
        problems.push(`Service ${service.metadata?.name} exposes port ${port.port}`);
    }
  }
  return problems;
}

/** Autoscaling and disruption budget aimed at the Deployment and its pods. */
export function checkScaling(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { deployment, labels } = found;
  const problems: string[] = [];
  const hpas = byKind<IHorizontalPodAutoscaler>(set, 'HorizontalPodAutoscaler');
  const hpa = hpas.find((h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment.metadata?.name);
  // SQLite is one replica by design (checkOrderStorage); only shared storage scales.
  if (!hpa && config.storage.url !== undefined) problems.push('no HorizontalPodAutoscaler targets the Deployment');
  else if (!hpa) {
    /* the single-replica SQLite layout */
  } else {
    if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`the HPA is ${hpa.apiVersion}, not autoscaling/v2`);
    if ((hpa.spec?.minReplicas ?? 1) < 2) problems.push('HPA minReplicas is below 2: one pod cannot drain without an outage');
    if (!hpa.spec?.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) problems.push('the HPA does not scale on CPU');
    if (deployment.spec?.replicas !== undefined) problems.push('the Deployment sets replicas while an HPA owns them: every apply resets the count');
  }
  const pdbs = byKind<IPodDisruptionBudget>(set, 'PodDisruptionBudget');
  if (!pdbs.some((p) => selects(p.spec?.selector?.matchLabels as Record<string, string>, labels)))
    problems.push('no PodDisruptionBudget selects the pods');
  return problems;
}

/** NetworkPolicy: mTLS open in-cluster; health and admin only to monitoring and (in overlays) the kubelet's node CIDR. */
export function checkNetworkPolicy(set: RenderedSet, config: Config): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { labels } = found;
  const problems: string[] = [];
  const policies = byKind<INetworkPolicy>(set, 'NetworkPolicy').filter((p) =>
    selects(p.spec?.podSelector?.matchLabels as Record<string, string>, labels),
  );
  if (policies.length === 0) return ['no NetworkPolicy selects the pods'];
  const rules = policies.flatMap((p) => ((p.spec?.policyTypes?.includes('Ingress') ?? true) ? (p.spec?.ingress ?? []) : []));
  const covering = (port: number) => rules.filter((r) => !r.ports || r.ports.some((p) => p.port === port || p.port === undefined));
  if (
    !covering(config.server.port).some((r) =>
      r.from?.some((peer) => peer.namespaceSelector && Object.keys(peer.namespaceSelector).length === 0 && !peer.podSelector),
    )
  ) {
    problems.push(`port ${config.server.port} is not open to every namespace`);
  }
  for (const [what, port] of [
    ['health', config.health.port],
    ['admin', config.admin.port],
  ] as const) {
    const allowed = covering(port);
    for (const rule of allowed) {
      if (!rule.from || rule.from.length === 0) problems.push(`${what} port ${port} is open to everyone`);
      for (const peer of rule.from ?? []) {
        const monitoring = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === MONITORING_NAMESPACE;
        if (!monitoring && !peer.ipBlock) problems.push(`${what} port ${port} is open to ${JSON.stringify(peer)}`);
      }
    }
    if (!allowed.some((r) => r.from?.some((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === MONITORING_NAMESPACE))) {
      problems.push(`${what} port ${port} is not open to the ${MONITORING_NAMESPACE} namespace`);
    }
  }
  if (set.name !== 'base' && !covering(config.health.port).some((r) => r.from?.some((peer) => peer.ipBlock))) {
    problems.push(`overlay ${set.name} does not open the health port ${config.health.port} to the node CIDR (ipBlock) for kubelet probes`);
  }
  return problems;
}

/** Prometheus Operator: a PodMonitor or ServiceMonitor scrapes the admin port's /metrics as job "gatehouse"; the rules match the tested file. */
export function checkMonitoring(set: RenderedSet, config: Config, rulesFileText: string): string[] {
  const found = gateway(set);
  if (typeof found === 'string') return [found];
  const { container, labels } = found;
  const problems: string[] = [];
  const podMonitors = byKind<IPodMonitor>(set, 'PodMonitor').filter((m) => selects(m.spec.selector.matchLabels as Record<string, string>, labels));
  const serviceMonitors = byKind<IServiceMonitor>(set, 'ServiceMonitor');
  if (podMonitors.length === 0 && serviceMonitors.length === 0) problems.push('no PodMonitor selects the pods, and no ServiceMonitor exists');
  for (const monitor of podMonitors) {
    const endpoints = monitor.spec.podMetricsEndpoints ?? [];
    const admin = endpoints.find((e) => container.ports?.find((p) => p.name === e.port)?.containerPort === config.admin.port);
    if (!admin) problems.push(`PodMonitor ${monitor.metadata?.name} scrapes no port named for admin.port ${config.admin.port}`);
    else if ((admin.path ?? '/metrics') !== '/metrics') problems.push(`PodMonitor ${monitor.metadata?.name} scrapes ${admin.path}, not /metrics`);
    if (monitor.spec.jobLabel === undefined || labels[monitor.spec.jobLabel] !== 'gatehouse') {
      problems.push(`PodMonitor ${monitor.metadata?.name} does not make job="gatehouse" (the rules and dashboard select it)`);
    }
  }
  const rules = byKind<IPrometheusRule>(set, 'PrometheusRule');
  const wanted = (YAML.parse(rulesFileText) as { groups: unknown }).groups;
  if (rules.length !== 1) problems.push(`expected one PrometheusRule, found ${rules.length}`);
  else if (!isDeepStrictEqual(rules[0]!.spec.groups, wanted))
    problems.push('the PrometheusRule groups differ from deploy/prometheus/rules/gatehouse.rules.yml');
  return problems;
}

/** Every object in one namespace, and a pinned image (a tag, not latest). */
export function checkNamespaceAndImage(set: RenderedSet): string[] {
  const problems: string[] = [];
  const namespaces = new Set(set.objects.map((o) => o.metadata?.namespace));
  if (namespaces.size !== 1 || namespaces.has(undefined))
    problems.push(`objects are in namespaces ${[...namespaces].join(', ')}: expected exactly one, set`);
  const found = gateway(set);
  if (typeof found === 'string') return [...problems, found];
  const image = found.container.image ?? '';
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  if (!image.includes('@') && (tag === undefined || tag === 'latest')) problems.push(`image ${image} is not pinned to a tag or digest`);
  return problems;
}

/** All checks that need the rendered objects of one overlay, in order. */
export function checkRenderedSet(set: RenderedSet, rulesFileText: string): CheckResult[] {
  const prefix = `${set.name}: `;
  const loaded = loadPodConfig(set);
  if (typeof loaded === 'string') return [{ name: `${prefix}config loads through src/config/load.ts`, problems: [loaded] }];
  const { config, configPath } = loaded;
  return [
    { name: `${prefix}config ${configPath} loads through src/config/load.ts with the pod's environment`, problems: [] },
    {
      name: `${prefix}policy loads; tokens verifiable, no development key; workers match the CPU request`,
      problems: checkAuthAndWorkers(set, config),
    },
    {
      name: `${prefix}probes are grpc on the health-only port ${HEALTH_PORT}, startup >= ${STARTUP_BUDGET_SECONDS} s`,
      problems: checkProbes(set, config),
    },
    { name: `${prefix}preStop + shutdownGraceMs fit in terminationGracePeriodSeconds`, problems: checkDrainTiming(set, config) },
    { name: `${prefix}non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp`, problems: checkHardening(set, config) },
    { name: `${prefix}spread across nodes, rollout keeps capacity`, problems: checkSpread(set) },
    { name: `${prefix}cert-manager Secret mounted as a directory where the config looks`, problems: checkCertificates(set, config) },
    { name: `${prefix}ClusterIP and headless Services reach the mTLS port`, problems: checkServices(set, config) },
    { name: `${prefix}HPA and PDB target the gateway`, problems: checkScaling(set, config) },
    {
      name: `${prefix}orders never on an emptyDir, never on SQLite with more than one replica; shared rate limits when scaled`,
      problems: checkOrderStorage(set, config),
    },
    { name: `${prefix}NetworkPolicy limits health and admin to monitoring and the kubelet`, problems: checkNetworkPolicy(set, config) },
    {
      name: `${prefix}PodMonitor scrapes admin /metrics as job="gatehouse"; PrometheusRule matches the tested rules`,
      problems: checkMonitoring(set, config, rulesFileText),
    },
    { name: `${prefix}one namespace, pinned image`, problems: checkNamespaceAndImage(set) },
  ];
}
