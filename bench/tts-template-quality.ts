/**
 * Template quality, for bench/tts-bench.ts: per template and voice, the spliced clip against the same sentence
 * synthesised whole. Length (the aim: within 5%), the slots' level against the same stretch of the whole sentence,
 * and for English the word error rate of PocketSphinx (the gateway's own SpeechToText) on both clips.
 */

import type * as grpc from '@grpc/grpc-js';
import { callUnary } from '../src/client/grpc-client.js';
import { wordErrorRate } from '../src/engines/pocketsphinx/word-error-rate.js';
import type { RecognizeResponse__Output } from '../src/generated/gatehouse/stt/v1/RecognizeResponse.js';
import type { SynthesizeResponse__Output } from '../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import type { SplicedPiece } from '../src/services/tts/index.js';

/** A template, its slot values, the voices to try it with and (English) the filled sentence as spoken, for WER. */
interface TemplateCase {
  template: string;
  slots: Record<string, string>;
  voices: string[];
  spoken?: string;
}

const EN = ['en-US', 'en-US+f3', 'kal16'];
const RU = ['ru', 'ru+f3'];

/** Short and long templates in English and Russian, the issue's seed among them. */
export const TEMPLATE_CASES: TemplateCase[] = [
  { template: 'Hello {name}.', slots: { name: 'Alice' }, voices: EN, spoken: 'hello alice' },
  { template: 'Your code is {code}.', slots: { code: '4721' }, voices: EN, spoken: 'your code is four thousand seven hundred and twenty one' },
  {
    template: 'Hi {name}, your order {order} has shipped.',
    slots: { name: 'Bob', order: 'A17' },
    voices: EN,
    spoken: 'hi bob your order a seventeen has shipped',
  },
  {
    template: '{name}, your appointment is on {day} at {time}.',
    slots: { name: 'Alice', day: 'Monday', time: '10 30' },
    voices: EN,
    spoken: 'alice your appointment is on monday at ten thirty',
  },
  {
    template:
      'Dear customer, we are transferring {sum} to {name}. The transfer will be completed within one business day. Thank you for banking with us!',
    slots: { sum: '1000 dollars', name: 'Alice' },
    voices: EN,
    spoken:
      'dear customer we are transferring one thousand dollars to alice the transfer will be completed within one business day thank you for banking with us',
  },
  { template: 'Итак, мы переводим {sum} {name}', slots: { sum: '1000', name: 'Азамату' }, voices: RU },
  { template: 'Здравствуйте, {name}!', slots: { name: 'Марина' }, voices: RU },
  { template: 'Ваш заказ {order} будет доставлен {date}.', slots: { order: 'номер 15', date: '01.02.2025' }, voices: RU },
  {
    template:
      'Уважаемый клиент, мы переводим {sum} {name}. Перевод будет выполнен в течение одного рабочего дня. Спасибо, что пользуетесь нашим банком!',
    slots: { sum: '1000', name: 'Азамату' },
    voices: RU,
  },
];

const pcm = (reply: SynthesizeResponse__Output): Int16Array => {
  const b = reply.audioContent;
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

/** Mean power over the 10 ms frames of [from, to) that are speech (above 5% of the clip's loudest frame), in dB. */
function speechLevelDb(s: Int16Array, from: number, to: number, rate: number): number {
  const frame = Math.round(rate / 100);
  const power: number[] = [];
  for (let i = 0; i + frame <= s.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j++) sum += s[j]! * s[j]!;
    power.push(sum / frame);
  }
  const threshold = Math.max(0, ...power) * 0.05 ** 2;
  const speech = power.slice(Math.floor(from / frame), Math.ceil(to / frame)).filter((p) => p >= threshold);
  return speech.length === 0 ? NaN : 10 * Math.log10(speech.reduce((a, b) => a + b, 0) / speech.length);
}

/**
 * Prints one line per template and voice and returns the templates (with voice) not within 5% of the whole sentence.
 * `placed` is filled by the service's `onSplicedPiece` during each template call; `stt` is a SpeechToText client of
 * the same gateway, or undefined to skip recognition.
 */
export async function measureTemplates(tts: grpc.Client, stt: grpc.Client | undefined, placed: SplicedPiece[]): Promise<string[]> {
  const synthesize = (request: unknown) => callUnary<SynthesizeResponse__Output>(tts, 'synthesize', request, { deadline: 60000 });
  const recognize = async (voice: string, input: unknown): Promise<string> => {
    const audio = await synthesize({ input, voice: { name: voice }, audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 16000 } });
    const r = await callUnary<RecognizeResponse__Output>(
      stt!,
      'recognize',
      { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: audio.audioContent } },
      { deadline: 60000 },
    );
    return r.results.map((x) => x.alternatives[0]?.transcript ?? '').join(' ');
  };
  const over: string[] = [];
  const wer = new Map<string, { whole: { reference: string; hypothesis: string }[]; template: { reference: string; hypothesis: string }[] }>();
  for (const c of TEMPLATE_CASES) {
    const text = c.template.replace(/\{([^}]+)\}/g, (_, k: string) => c.slots[k]!);
    const templateInput = { templateInput: { template: c.template, slots: c.slots } };
    console.log(`  ${c.template}  ${JSON.stringify(c.slots)}`);
    for (const voice of c.voices) {
      await synthesize({ input: templateInput, voice: { name: voice } }); // fills the fragment cache
      const whole = await synthesize({ input: { text }, voice: { name: voice } });
      placed.length = 0;
      const spliced = await synthesize({ input: templateInput, voice: { name: voice } });
      const [w, t] = [whole.audioInfo!.durationSeconds, spliced.audioInfo!.durationSeconds];
      const diff = (t / w - 1) * 100;
      const within = Math.abs(diff) <= 5;
      if (!within) over.push(`${voice} "${c.template}" ${diff >= 0 ? '+' : ''}${diff.toFixed(1)}%`);
      // The slot's stretch of the template against the same stretch of the whole sentence (the clips keep the same
      // timing to a few per cent, so positions scale by the length ratio).
      const rate = spliced.audioInfo!.sampleRateHertz;
      const [ws, ts] = [pcm(whole), pcm(spliced)];
      const levels = placed
        .filter((p) => p.kind === 'dynamic')
        .map(
          (p) =>
            speechLevelDb(ts, p.start, p.end, rate) - speechLevelDb(ws, (p.start * ws.length) / ts.length, (p.end * ws.length) / ts.length, rate),
        );
      const level = levels.length === 0 ? '' : `  slots vs whole ${levels.map((d) => `${d >= 0 ? '+' : ''}${d.toFixed(1)} dB`).join(', ')}`;
      let recognition = '';
      if (stt && c.spoken) {
        const [hw, ht] = [await recognize(voice, { text }), await recognize(voice, templateInput)];
        const sets = wer.get(voice) ?? { whole: [], template: [] };
        sets.whole.push({ reference: c.spoken, hypothesis: hw });
        sets.template.push({ reference: c.spoken, hypothesis: ht });
        wer.set(voice, sets);
        const pct = (h: string) => `${(wordErrorRate([{ reference: c.spoken!, hypothesis: h }]) * 100).toFixed(0)}%`;
        recognition = `  WER whole ${pct(hw)}, template ${pct(ht)}`;
      }
      console.log(
        `    ${voice.padEnd(9)} whole ${w.toFixed(2)} s, template ${t.toFixed(2)} s (${diff >= 0 ? '+' : ''}${diff.toFixed(1)}%, ${within ? 'within 5%' : 'OVER 5%'})${level}${recognition}`,
      );
    }
  }
  for (const [voice, sets] of wer) {
    console.log(
      `  WER over the English templates, ${voice}: whole ${(wordErrorRate(sets.whole) * 100).toFixed(1)}%, template ${(wordErrorRate(sets.template) * 100).toFixed(1)}%`,
    );
  }
  return over;
}
