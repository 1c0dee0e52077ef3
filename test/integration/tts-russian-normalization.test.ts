/**
 * Russian round trip over the wire: text with numbers, dates, units and abbreviations is spoken as a person reads it.
 * Each written sentence must give audio as long as the same sentence written out in words by hand (what eSpeak reads
 * correctly); read as written (digit groups, "точка", letters spelled) the lengths differ by far more.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';

import { callUnary } from '../../src/client/grpc-client.js';
import type { SynthesizeResponse__Output } from '../../src/generated/gatehouse/tts/v1/SynthesizeResponse.js';
import { createTextToSpeechService, TTS_SERVICE_NAME, TtsConfigSchema } from '../../src/services/tts/index.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

/** Written, and spoken as a person would say it. */
const SENTENCES: [string, string][] = [
  ['Температура -12°C, влажность 85%.', 'Температура минус двенадцать градусов Цельсия, влажность восемьдесят пять процентов.'],
  ['Население 1 234 567 человек.', 'Население один миллион двести тридцать четыре тысячи пятьсот шестьдесят семь человек.'],
  ['Договор от 01.02.2025 подписан.', 'Договор от первого февраля две тысячи двадцать пятого года подписан.'],
  ['Встреча 15 марта 2024 года в 10:30.', 'Встреча пятнадцатого марта две тысячи двадцать четвёртого года в десять часов тридцать минут.'],
  [
    'ООО «Ромашка» работает в РФ и США.',
    'Общество с ограниченной ответственностью «Ромашка» работает в Российской Федерации и Соединённых Штатах Америки.',
  ],
  ['Адрес: г. Москва, ул. Ленина, д. 5.', 'Адрес: город Москва, улица Ленина, дом пять.'],
  ['Скорость 90 км/ч, т.е. быстро.', 'Скорость девяносто километров в час, то есть быстро.'],
  ['Цена 2 500 ₽, скидка 2,5%.', 'Цена две тысячи пятьсот рублей, скидка две целых пять десятых процента.'],
  ['Курс $1 вырос в 2024 году.', 'Курс один доллар вырос в две тысячи двадцать четвёртом году.'],
  ['Он пришёл 3-м, вес 70 кг.', 'Он пришёл третьим, вес семьдесят килограммов.'],
];

describe('Russian text normalisation round trip', () => {
  let gw: TestGateway;
  let client: grpc.Client;
  before(async () => {
    const config = TtsConfigSchema.parse({ workers: 2, flite: { enabled: false } });
    gw = await startGateway({ extraServices: [createTextToSpeechService({ registry: new Registry(), config })] });
    client = gw.client(TTS_SERVICE_NAME);
  });
  after(() => gw?.close());

  const seconds = async (input: unknown): Promise<number> =>
    (
      await callUnary<SynthesizeResponse__Output>(
        client,
        'synthesize',
        { input, voice: { languageCode: 'ru' }, audioConfig: { audioEncoding: 'LINEAR16' } },
        { deadline: 60000 },
      )
    ).audioInfo!.durationSeconds;

  test('ten sentences with numbers and dates last as long as their spoken form', async () => {
    for (const [written, spoken] of SENTENCES) {
      const [w, s] = await Promise.all([seconds({ text: written }), seconds({ text: spoken })]);
      assert.ok(Math.abs(w - s) / s < 0.03, `${written}: ${w.toFixed(2)} s, spoken form ${s.toFixed(2)} s`);
    }
  });

  test('the seed template: "Итак, мы переводим {sum} {name}" with sum=1000 says "тысячу"', async () => {
    const template = await seconds({ templateInput: { template: 'Итак, мы переводим {sum} {name}', slots: { sum: '1000', name: 'Азамату' } } });
    const spoken = await seconds({ text: 'Итак, мы переводим тысячу Азамату' });
    const digits = await seconds({ text: 'Итак, мы переводим один ноль ноль ноль Азамату' });
    // Spliced from the cached "Итак, мы переводим" and the slot, it keeps the whole sentence's timing (measured +0.3%).
    assert.ok(Math.abs(template - spoken) / spoken < 0.05, `template ${template.toFixed(2)} s, spoken ${spoken.toFixed(2)} s`);
    assert.ok(Math.abs(template - spoken) < Math.abs(template - digits), 'closer to "тысячу" than to the digits');
  });
});
