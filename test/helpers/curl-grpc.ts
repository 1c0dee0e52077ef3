import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createStatusDetailsCodec } from '../../src/status/status-details.js';
import type { TestGateway } from './start-gateway.js';

const execFileAsync = promisify(execFile);

/** What a client reads from a gRPC reply. */
export interface CurlGrpcReply {
  /** grpc-status, NaN when the reply had none (a reset, a timeout). */
  code: number;
  message: string;
  reason?: string;
  /** curl's own error text when it failed (e.g. a stream reset). */
  curlError?: string;
}

/**
 * One unary gRPC call through curl, which (unlike Node's HTTP/2 client) sends
 * whatever headers it is given: repeated `authorization`, tabs in values,
 * hundreds of entries. `body` is the whole request body, length prefix
 * included; without it the request is headers only (curl sometimes hangs when
 * the server answers trailers-only before the body is sent).
 */
export async function curlGrpcCall(gw: TestGateway, path: string, headers: string[], body?: Buffer): Promise<CurlGrpcReply> {
  const port = gw.addresses.grpcPort;
  const args = [
    '-sS',
    '--http2',
    '--max-time',
    '10',
    '--cacert',
    gw.certs.caCert,
    '--cert',
    gw.certs.clients.alice.cert,
    '--key',
    gw.certs.clients.alice.key,
    '--resolve',
    `localhost:${port}:127.0.0.1`,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    ...headers.flatMap((header) => ['-H', header]),
    ...(body ? ['--data-binary', '@-'] : ['-X', 'POST']),
    '-D',
    '-',
    '-o',
    '/dev/null',
    `https://localhost:${port}${path}`,
  ];
  const child = execFileAsync('curl', args, { encoding: 'buffer', maxBuffer: 4 << 20 });
  child.child.stdin!.end(body);
  let stdout: Buffer;
  let curlError: string | undefined;
  try {
    stdout = (await child).stdout;
  } catch (error) {
    const failed = error as { stdout?: Buffer; stderr?: Buffer };
    stdout = failed.stdout ?? Buffer.alloc(0);
    curlError = failed.stderr?.toString('utf8').trim() || String(error);
  }
  const fields = new Map<string, string>();
  for (const line of stdout.toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const details = fields.get('grpc-status-details-bin');
  return {
    code: fields.has('grpc-status') ? Number(fields.get('grpc-status')) : Number.NaN,
    message: decodeURIComponent(fields.get('grpc-message') ?? ''),
    ...(details ? { reason: createStatusDetailsCodec().decode(Buffer.from(details, 'base64')).errorInfo?.reason } : {}),
    ...(curlError !== undefined ? { curlError } : {}),
  };
}
