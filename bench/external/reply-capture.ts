/**
 * The reply every server of the external benchmark sends: the gateway's own
 * answer to ListVoices(language_code: "ru"), fetched once from a gateway
 * with the whole chain, so the servers compared send the same bytes.
 */
import { writeFileSync } from 'node:fs';
import type { BenchFiles } from './bench-files.js';
import { fetchReplies } from './load-client.js';
import type { ServerProcess } from './server-process.js';
import type { RunFiles } from './servers.js';

/** The method every unary measurement calls. */
export const LIST_VOICES = '/gatehouse.tts.v1.TextToSpeech/ListVoices';
/** ListVoicesRequest{language_code: "ru"}: field 1, length 2, "ru". */
export const LIST_VOICES_RU = Buffer.from('0a027275', 'hex');

/** Fetches the reply from `gateway` (already started) into the run's reply files; returns its size in bytes. */
export async function captureReply(binary: string, gateway: ServerProcess, files: BenchFiles, token: string, run: RunFiles): Promise<number> {
  const [reply] = await fetchReplies(binary, {
    target: `127.0.0.1:${gateway.port}`,
    tls: 'mtls',
    certs: files.certs,
    token,
    method: LIST_VOICES,
    request: LIST_VOICES_RU,
  });
  if (!reply || reply.length === 0) throw new Error('the gateway gave an empty ListVoices reply; is eSpeak serving?');
  writeFileSync(run.replyFile, reply);
  writeFileSync(run.streamReplyFile, reply);
  return reply.length;
}
