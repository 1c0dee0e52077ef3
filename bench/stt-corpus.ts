/**
 * The speech test corpus: files from Debian's pocketsphinx-testdata with their reference transcripts, and a runner
 * for Debian's own `pocketsphinx_continuous` on them (the accuracy baseline for the STT test and bench).
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** Where pocketsphinx-testdata puts its files. */
export const TEST_DATA_DIR = '/usr/share/pocketsphinx/test/data';

/** One clip with its reference transcript. */
export interface CorpusEntry {
  /** File name without directory. */
  name: string;
  /** The pocketsphinx-testdata set it belongs to: `goforward`, `librivox` or `cards`. */
  set: string;
  /** Absolute path: 16 kHz mono 16-bit, raw (`.raw`) or WAV (`.wav`). */
  wavPath: string;
  /** What was said, lower case. */
  reference: string;
  /** Duration in seconds. */
  seconds: number;
}

function durationSeconds(path: string): number {
  const bytes = readFileSync(path).length - (path.endsWith('.wav') ? 44 : 0);
  return bytes / 2 / 16000;
}

/** goforward.raw, the five LibriVox sentences and the five "cards" commands, with their transcripts. */
export function loadTestCorpus(dir = TEST_DATA_DIR): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  const add = (set: string, path: string, reference: string): void => {
    out.push({ name: path.split('/').pop()!, set, wavPath: path, reference: reference.trim().replace(/\s+/g, ' '), seconds: durationSeconds(path) });
  };
  add('goforward', join(dir, 'goforward.raw'), 'go forward ten meters');
  // Lines look like "<s> he was not an ill disposed young man </s> (sense_and_sensibility_01_austen_64kb-0880)".
  const parse = (file: string, sub: string): void => {
    for (const line of readFileSync(join(dir, sub, file), 'utf8').split('\n')) {
      const m = /^<s>\s*(.*?)\s*<\/s>\s*\((.+)\)\s*$/.exec(line.trim());
      if (m) add(sub, join(dir, sub, `${m[2]}.wav`), m[1]!);
    }
  };
  parse('transcription', 'librivox');
  parse('cards.transcription', 'cards');
  return out;
}

/** Runs `pocketsphinx_continuous -infile` on each entry (`concurrency` at a time); its hypothesis lines, joined. */
export async function runPocketSphinxContinuous(
  corpus: readonly CorpusEntry[],
  concurrency = 2,
): Promise<Array<{ reference: string; hypothesis: string; name: string }>> {
  const run = promisify(execFile);
  const results = new Array<{ reference: string; hypothesis: string; name: string }>(corpus.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < corpus.length) {
      const i = next++;
      const c = corpus[i]!;
      const { stdout } = await run('pocketsphinx_continuous', ['-infile', c.wavPath, '-logfn', '/dev/null'], { maxBuffer: 1 << 20 });
      results[i] = {
        name: c.name,
        reference: c.reference,
        hypothesis: stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .join(' '),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return results;
}
