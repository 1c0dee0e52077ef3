import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { PROTO_DIR } from '../proto/load.js';
import { summarizeFile, type FileSummary } from './described-services.js';

/** What an upstream's server reflection told: the services it lists and every file needed to describe the wanted ones. */
export interface ReflectedApi {
  /** Every service the upstream lists. */
  readonly services: readonly string[];
  /** The files declaring the wanted services and all they import, as the upstream's compiler wrote them. */
  readonly files: readonly Buffer[];
}

type Request = { list_services?: string; file_containing_symbol?: string; file_by_filename?: string };
type Response = {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
};

const VERSIONS = ['v1', 'v1alpha'] as const;

/**
 * Asks an upstream's server reflection (v1, then v1alpha for older servers)
 * for its services and the files describing those `wanted` picks, with their
 * imports. One reflection stream per version tried, bounded by `timeoutMs`.
 * Rejects with the upstream's status when neither version answers.
 */
export async function reflectUpstream(
  client: grpc.Client,
  wanted: (services: readonly string[]) => readonly string[],
  timeoutMs: number,
): Promise<ReflectedApi> {
  let lastError: unknown;
  for (const version of VERSIONS) {
    try {
      return await reflectWith(client, version, wanted, timeoutMs);
    } catch (error) {
      lastError = error;
      if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw error;
    }
  }
  throw lastError;
}

async function reflectWith(
  client: grpc.Client,
  version: (typeof VERSIONS)[number],
  wanted: (services: readonly string[]) => readonly string[],
  timeoutMs: number,
): Promise<ReflectedApi> {
  const method = methodOf(version);
  const stream = client.makeBidiStreamRequest<Request, Response>(
    method.path,
    method.requestSerialize,
    method.responseDeserialize,
    new grpc.Metadata(),
    {
      deadline: Date.now() + timeoutMs,
    },
  );
  const session = new ReflectionSession(stream);
  try {
    const listed = await session.ask({ list_services: '' });
    const services = (listed.list_services_response?.service ?? []).map((s) => s.name);
    const files = new Map<string, { bytes: Buffer; summary: FileSummary }>();
    const take = (response: Response, what: string) => {
      if (response.error_response) throw new Error(`reflection has no ${what}: ${response.error_response.error_message}`);
      for (const bytes of response.file_descriptor_response?.file_descriptor_proto ?? []) {
        const summary = summarizeFile(bytes);
        if (!files.has(summary.name)) files.set(summary.name, { bytes: Buffer.from(bytes), summary });
      }
    };
    for (const service of wanted(services)) take(await session.ask({ file_containing_symbol: service }), `service ${service}`);
    // Servers may leave out imports they sent on this stream before, or send only the file itself: fetch what is missing.
    for (let missing = missingImports(files); missing.length > 0; missing = missingImports(files)) {
      for (const name of missing) take(await session.ask({ file_by_filename: name }), `file ${name}`);
    }
    return { services, files: [...files.values()].map((f) => f.bytes) };
  } finally {
    stream.end();
    stream.cancel();
  }
}

function missingImports(files: ReadonlyMap<string, { summary: FileSummary }>): string[] {
  const missing = new Set<string>();
  for (const { summary } of files.values()) for (const dependency of summary.dependencies) if (!files.has(dependency)) missing.add(dependency);
  return [...missing];
}

/** One request, one response, in order, over a reflection stream. */
class ReflectionSession {
  private readonly waiting: { resolve(response: Response): void; reject(error: unknown): void }[] = [];
  private failure: unknown;

  constructor(private readonly stream: grpc.ClientDuplexStream<Request, Response>) {
    stream.on('data', (response: Response) => this.waiting.shift()?.resolve(response));
    stream.on('error', (error: unknown) => this.fail(error));
    stream.on('end', () => this.fail(Object.assign(new Error('the reflection stream ended early'), { code: grpc.status.UNAVAILABLE })));
  }

  ask(request: Request): Promise<Response> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write(request);
    });
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
  }
}

const methods = new Map<string, grpc.MethodDefinition<Request, Response>>();

function methodOf(version: (typeof VERSIONS)[number]): grpc.MethodDefinition<Request, Response> {
  let method = methods.get(version);
  if (method === undefined) {
    const definition = protoLoader.loadSync(join(PROTO_DIR, 'grpc', 'reflection', version, 'reflection.proto'), {
      keepCase: true,
      longs: Number,
      enums: Number,
      defaults: false,
      oneofs: true,
    });
    const service = definition[`grpc.reflection.${version}.ServerReflection`] as unknown as Record<string, grpc.MethodDefinition<Request, Response>>;
    method = service.ServerReflectionInfo!;
    methods.set(version, method);
  }
  return method;
}
