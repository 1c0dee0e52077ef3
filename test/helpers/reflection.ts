import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const reflectionProto = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

/** Asks a server's reflection service for its service list, as grpcurl `list` does. */
export async function listServicesByReflection(target: string, credentials: grpc.ChannelCredentials): Promise<string[]> {
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, defaults: true });
  const Reflection = grpc.makeClientConstructor(definition['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition, 'ServerReflection');
  const client = new Reflection(target, credentials);
  try {
    const call = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, { list_services_response?: { service: { name: string }[] } }> }).ServerReflectionInfo();
    call.write({ list_services: '' });
    call.end();
    const names: string[] = [];
    for await (const reply of call) names.push(...(reply.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
    return names.sort();
  } finally {
    client.close();
  }
}
