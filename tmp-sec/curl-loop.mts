import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startGateway } from '../test/helpers/start-gateway.ts';
import { devTokenFor } from '../test/helpers/dev-token.ts';
const gw = await startGateway({ devTokens: false });
const token = devTokenFor(gw.certs, 'alice', {}, gw.config);
const port = gw.addresses.grpcPort;
const run = promisify(execFile);
let slow = 0;
for (let i = 0; i < 100; i++) {
  const dup = i % 2 === 0;
  const args = ['-sS', '--http2', '--max-time', '5', '--cacert', gw.certs.caCert, '--cert', gw.certs.clients.alice.cert, '--key', gw.certs.clients.alice.key,
    '--resolve', `localhost:${port}:127.0.0.1`, '-H', 'content-type: application/grpc', '-H', 'te: trailers', ...(dup ? [] : ['-H', `authorization: Bearer ${token}`]),
    ...(dup ? ['-X', 'POST'] : ['--data-binary', '@/tmp/empty-grpc-msg']), '-D', '-', '-o', '/dev/null', `https://localhost:${port}/cheesefarm.v1.CheeseService/ListOrders`];
  const t = performance.now();
  const p = run('curl', args, { encoding: 'buffer' });
  
  try { const { stdout } = await p; const st = /grpc-status: (\d+)/.exec(stdout.toString())?.[1]; if (performance.now() - t > 1000) slow++; process.stdout.write(`${dup ? 'D' : 'S'}${st} `); }
  catch (e) { process.stdout.write(`\nFAILED ${(e as any).stderr?.toString()} ${(e as any).stdout?.toString()}\n`); }
}
console.log('\nslow', slow);
await gw.close();
