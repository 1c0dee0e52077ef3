import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { PROTO_DIR } from '../../src/proto/load.js';

const reflectionProto = join(PROTO_DIR, 'grpc/reflection/v1/reflection.proto');

/** A reflection reply as proto-loader decodes it (original field names; only what tests read). */
export interface ReflectionReply {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** Sends one grpc.reflection.v1 request (e.g. `{ file_containing_symbol: 'x.Y' }`) and returns the one reply. */
export async function reflectionRequest(
  target: string,
  credentials: grpc.ChannelCredentials,
  request: Record<string, unknown>,
): Promise<ReflectionReply> {
  const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, longs: Number, defaults: false });
  const Reflection = grpc.makeClientConstructor(definition['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition, 'ServerReflection');
  // The certificate names localhost; naming it avoids Node's "TLS ServerName is an IP" warning.
  const client = new Reflection(target, credentials, { 'grpc.ssl_target_name_override': 'localhost' });
  try {
    const call = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionReply> }).ServerReflectionInfo();
    call.write(request);
    call.end();
    const replies: ReflectionReply[] = [];
    for await (const reply of call) replies.push(reply);
    if (replies.length !== 1) throw new Error(`expected one reflection reply, got ${replies.length}`);
    return replies[0]!;
  } finally {
    client.close();
  }
}

/** Asks a server's reflection service for its service list, as grpcurl `list` does. */
export async function listServicesByReflection(target: string, credentials: grpc.ChannelCredentials): Promise<string[]> {
  const reply = await reflectionRequest(target, credentials, { list_services: '' });
  return (reply.list_services_response?.service ?? []).map((s) => s.name).sort();
}
