/**
 * The bare @grpc/grpc-js server the external benchmark compares Gatehouse with:
 * `tsx bench/external/servers/bare-server.ts --dir DIR --reply-file F [--stream-reply-file F] [--tls mtls|plaintext]`.
 *
 * What a team would write without a gateway: TextToSpeech from the same protos (proto-loader definition, so
 * requests are decoded and replies encoded per call as any grpc-js service does), ListVoices answering with the
 * reply Gatehouse gave for `language_code: "ru"` (re-encoded to the very same bytes, checked at start), the same
 * mTLS credentials (client certificate required, same CA), no interceptor. With `--stream-reply-file` it also
 * serves the bench stream method with those bytes ten times. Prints its port on fd 3.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadServiceDefinition } from '../../../src/proto/load.js';
import { benchFilesIn } from '../bench-files.js';
import { BENCH_STREAM_MESSAGES, benchStreamDefinition } from '../bench-stream-service.js';
import { startAllocationProfile } from './allocation-profile.js';
import { announceReady } from './ready.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    'reply-file': { type: 'string' },
    'stream-reply-file': { type: 'string' },
    tls: { type: 'string', default: 'mtls' },
  },
});
if (!values.dir || !values['reply-file']) throw new Error('--dir and --reply-file are required');
const { certs } = benchFilesIn(values.dir);

const definition = loadServiceDefinition('gatehouse.tts.v1.TextToSpeech');
const listVoices = definition.ListVoices!;
const replyBytes = readFileSync(values['reply-file']);
const reply = listVoices.responseDeserialize(replyBytes);
if (!Buffer.from(listVoices.responseSerialize(reply)).equals(replyBytes)) {
  throw new Error('the ListVoices reply does not re-encode to the same bytes; the comparison would not be like for like');
}
const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED });
const server = new grpc.Server();
server.addService(definition, {
  ListVoices: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, reply),
  Synthesize: unimplemented,
  StreamingSynthesize: (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', { code: grpc.status.UNIMPLEMENTED }),
});
const streamReply = values['stream-reply-file'];
if (streamReply) {
  const message = readFileSync(streamReply);
  server.addService(benchStreamDefinition(), {
    Voices: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < BENCH_STREAM_MESSAGES; i++) call.write(message);
      call.end();
    },
  });
}

const credentials =
  values.tls === 'plaintext'
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(
        readFileSync(certs.caCert),
        [{ cert_chain: readFileSync(certs.serverCert), private_key: readFileSync(certs.serverKey) }],
        true,
      );
const stopAllocationProfile = await startAllocationProfile();
server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
  if (error) throw error;
  announceReady({ port });
});
process.on('SIGTERM', () => void stopAllocationProfile().then(() => server.tryShutdown(() => process.exit(0))));
