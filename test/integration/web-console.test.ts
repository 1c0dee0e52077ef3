/**
 * The browser console (src/web/console/) in a real headless Chromium
 * (Debian's /usr/bin/chromium, driven by playwright-core), served by the web
 * listener of a gateway in `tls` mode, where a browser is known by its token
 * alone: it speaks a sentence from the voice list, recognises goforward.raw
 * with interim results, and sees its own order arrive over WatchOrders.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { devTokenFor } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHROMIUM = '/usr/bin/chromium';
const GO_FORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';

describe('browser console in headless Chromium (issue 15)', {
  skip: !existsSync(CHROMIUM) && `${CHROMIUM} is not installed (.ci/install-system-deps.sh)`,
  timeout: 180_000,
}, () => {
  let gw: TestGateway;
  let browser: Browser | undefined;

  before(async () => {
    gw = await startGateway({
      overrides: {
        'server.tls.mode': 'tls',
        'http.enabled': true,
        'http.host': '127.0.0.1',
        'http.port': 0,
        'tts.enabled': true,
        'stt.enabled': true,
        // Browsers have no client certificate here: the policy lets token holders call (with the usual scopes).
        'policy.defaults': { requireToken: true },
      },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('speaks a sentence, recognises goforward.raw with interim results, and shows a live order', async () => {
    const context = await browser!.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    // A wait that times out says what the page showed.
    const waitFor = async (what: string, predicate: () => boolean) => {
      try {
        await page.waitForFunction(predicate);
      } catch (error) {
        const status = await page.textContent('#status').catch(() => '?');
        throw new Error(`${what}: ${(error as Error).message.split('\n')[0]}; page status "${status}"; errors ${JSON.stringify(problems)}`);
      }
    };
    await page.goto(`https://localhost:${gw.addresses.httpPort}/`);
    await page.fill('#token', devTokenFor(gw.certs, 'alice', {}, gw.config));
    await page.dispatchEvent('#token', 'change');

    // Voices from ListVoices; speak with one and hear it play.
    await waitFor('voices listed', () => (document.getElementById('voice') as HTMLSelectElement).options.length > 0);
    await page.selectOption('#voice', 'slt');
    await page.fill('#speak-text', 'The brie is ready for collection.');
    await page.click('#speak-button');
    await waitFor('speech playing', () => {
      const audio = document.getElementById('speak-audio') as HTMLAudioElement;
      return audio.duration > 0.5 && (audio.currentTime > 0 || audio.ended);
    });

    // Recognition: interim results are seen before the final transcript.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { interims: string[] }).interims = seen;
      new MutationObserver(() => {
        const text = document.getElementById('interim')!.textContent ?? '';
        if (text) seen.push(text);
      }).observe(document.getElementById('interim')!, { childList: true, characterData: true, subtree: true });
    });
    await page.setInputFiles('#audio-file', GO_FORWARD);
    await page.click('#recognize-button');
    await waitFor('transcript shown', () => document.getElementById('transcript')!.textContent !== '');
    assert.equal(await page.textContent('#transcript'), 'go forward ten meters');
    const interims = await page.evaluate(() => (window as unknown as { interims: string[] }).interims);
    assert.ok(interims.length >= 1, 'interim results were shown while decoding');

    // A live order: the watch resumes after the newest order the page saw, so the one placed here arrives in the table.
    await waitFor('watching orders', () => document.getElementById('watch-state')!.textContent!.startsWith('watching after'));
    await page.selectOption('#cheese-type', 'ROQUEFORT');
    await page.click('#order-button');
    const row = await page.waitForSelector('#order-rows tr');
    const cells = await row.$$eval('td', (tds) => tds.map((td) => td.textContent));
    assert.equal(cells[2], 'ROQUEFORT');
    assert.match(cells[1] ?? '', /^ord_/);
    assert.match((await page.textContent('#status')) ?? '', new RegExp(`ordered ${cells[1]}`));
    assert.deepEqual(problems, [], 'no script errors on the page');
    await context.close();
  });
});
