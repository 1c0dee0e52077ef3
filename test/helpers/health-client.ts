import * as grpc from '@grpc/grpc-js';
import { service as healthDefinition } from 'grpc-health-check';

/** Calls grpc.health.v1.Health/Check and resolves with the status name. */
export function checkHealth(target: string, credentials: grpc.ChannelCredentials, service = ''): Promise<string> {
  const Health = grpc.makeClientConstructor(healthDefinition as grpc.ServiceDefinition, 'Health');
  const client = new Health(target, credentials);
  return new Promise<string>((resolve, reject) => {
    (client as unknown as { check: (r: object, cb: (e: grpc.ServiceError | null, r: { status: string | number }) => void) => void })
      .check({ service }, (error, reply) => {
        client.close();
        if (error) reject(error);
        else resolve(typeof reply.status === 'number' ? ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][reply.status]! : reply.status);
      });
  });
}
