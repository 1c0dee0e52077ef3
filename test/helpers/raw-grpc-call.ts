import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createStatusDetailsCodec } from '../../src/status/status-details.js';
import type { TestGateway } from './start-gateway.js';

const execFileAsync = promisify(execFile);

/**
 * One unary gRPC call through curl, which (unlike Node's HTTP/2 client) sends
 * whatever headers it is given. Returns the status as a client would read it.
 * Without `withMessage` the request is headers only: curl sometimes hangs
 * when the server answers (trailers-only) before curl has sent its body,
 * which is exactly what a refusal does.
 */
export async function rawGrpcCall(gw: TestGateway, path: string, headers: string[], withMessage: boolean): Promise<{ code: number; message: string; reason?: string }> {
  const port = gw.addresses.grpcPort;
  const args = [
    '-sS', '--http2', '--max-time', '10',
    '--cacert', gw.certs.caCert, '--cert', gw.certs.clients.alice.cert, '--key', gw.certs.clients.alice.key,
    '--resolve', `localhost:${port}:127.0.0.1`,
    '-H', 'content-type: application/grpc', '-H', 'te: trailers',
    ...headers.flatMap((header) => ['-H', header]),
    // Request body (when any) from stdin; response headers and trailers (-D) to stdout.
    ...(withMessage ? ['--data-binary', '@-'] : ['-X', 'POST']), '-D', '-', '-o', '/dev/null',
    `https://localhost:${port}${path}`,
  ];
  const child = execFileAsync('curl', args, { encoding: 'buffer' });
  // An empty request message: flag 0, length 0.
  child.child.stdin!.end(withMessage ? Buffer.alloc(5) : undefined);
  const fields = new Map<string, string>();
  for (const line of (await child).stdout.toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const details = fields.get('grpc-status-details-bin');
  return {
    code: Number(fields.get('grpc-status')),
    message: decodeURIComponent(fields.get('grpc-message') ?? ''),
    ...(details ? { reason: createStatusDetailsCodec().decode(Buffer.from(details, 'base64')).errorInfo?.reason } : {}),
  };
}
