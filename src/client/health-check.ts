import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';

const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** Calls grpc.health.v1.Health/Check once and resolves with the status name. */
export function checkHealthStatus(target: string, credentials: grpc.ChannelCredentials, service = '', timeoutMs = 5000): Promise<string> {
  const Health = grpc.makeClientConstructor(healthDefinition as grpc.ServiceDefinition, 'Health');
  const client = new Health(target, credentials);
  type Check = (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: { status: string | number }) => void) => void;
  return new Promise<string>((resolve, reject) => {
    (client as unknown as { check: Check }).check({ service }, { deadline: Date.now() + timeoutMs }, (error, reply) => {
      client.close();
      if (error) reject(error);
      else resolve(typeof reply.status === 'number' ? (STATUS_NAMES[reply.status] ?? String(reply.status)) : reply.status);
    });
  });
}
