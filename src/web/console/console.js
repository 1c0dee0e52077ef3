// The Gatehouse browser console: plain browser APIs against the gateway's HTTP/JSON routes (same origin).
// Routes: GET /v1/voices, POST /v1/text:synthesize, POST /v1/speech:streamingRecognize (NDJSON both ways),
// POST /v1/cheese/orders, GET /v1/cheese/orders:watch (NDJSON). Errors are google.rpc.Status JSON.

const $ = (id) => document.getElementById(id);
const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem('gatehouse.token') ?? '';

function headers(extra = {}) {
  const token = tokenInput.value.trim();
  return token ? { authorization: `Bearer ${token}`, ...extra } : extra;
}

function say(message, isError = false) {
  $('status').textContent = message;
  $('status').className = isError ? 'error' : '';
}

/** Throws the google.rpc.Status message of a failed reply. */
async function check(response) {
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const status = await response.json();
    const reason = status.details?.find((d) => d['@type']?.endsWith('ErrorInfo'))?.reason;
    message = `${status.message}${reason ? ` (${reason})` : ''}`;
  } catch {
    /* not JSON */
  }
  throw new Error(message);
}

/** Calls `onLine` with each JSON line of a streamed reply as it arrives. */
async function readLines(response, onLine) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
  if (pending.trim()) onLine(JSON.parse(pending));
}

async function loadVoices() {
  const response = await check(await fetch('/v1/voices', { headers: headers() }));
  const { voices = [] } = await response.json();
  const select = $('voice');
  select.replaceChildren(
    ...voices.map((voice) => {
      const option = document.createElement('option');
      option.value = voice.name;
      option.textContent = `${voice.name} (${voice.languageCodes.join(', ')}, ${voice.engine})`;
      return option;
    }),
  );
  const preferred = voices.find((voice) => voice.name === 'slt') ?? voices.find((voice) => voice.languageCodes.includes('en-US'));
  if (preferred) select.value = preferred.name;
}

async function speak() {
  const body = { input: { text: $('speak-text').value }, voice: { name: $('voice').value }, audioConfig: { container: 'WAV' } };
  const response = await check(
    await fetch('/v1/text:synthesize', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json', accept: 'audio/wav' }),
      body: JSON.stringify(body),
    }),
  );
  const audio = $('speak-audio');
  if (audio.src) URL.revokeObjectURL(audio.src);
  audio.src = URL.createObjectURL(await response.blob());
  await audio.play();
  say('speaking');
}

function toBase64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function recognize() {
  const file = $('audio-file').files[0];
  if (!file) throw new Error('choose an audio file first');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isWav = String.fromCharCode(...bytes.subarray(0, 4)) === 'RIFF';
  const config = isWav ? { languageCode: 'en-US' } : { encoding: 'LINEAR16', sampleRateHertz: Number($('sample-rate').value), languageCode: 'en-US' };
  // One request message a line: the config, then the audio in half-second pieces, so interim results come as it decodes.
  const lines = [JSON.stringify({ streamingConfig: { config, interimResults: true } })];
  const piece = 16000;
  for (let i = 0; i < bytes.length; i += piece) lines.push(JSON.stringify({ audioContent: toBase64(bytes.subarray(i, i + piece)) }));
  $('interim').textContent = '';
  $('transcript').textContent = '';
  const response = await check(
    await fetch('/v1/speech:streamingRecognize', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/x-ndjson' }),
      body: `${lines.join('\n')}\n`,
    }),
  );
  await readLines(response, (message) => {
    if (message.error) throw new Error(message.error.message);
    for (const result of message.results ?? []) {
      const text = result.alternatives?.[0]?.transcript ?? '';
      if (result.isFinal) {
        $('transcript').textContent = `${$('transcript').textContent} ${text}`.trim();
        $('interim').textContent = '';
      } else {
        $('interim').textContent = text;
      }
    }
  });
  say('recognised');
}

async function placeOrder(event) {
  event.preventDefault();
  const body = {
    type: $('cheese-type').value,
    age: Number($('cheese-age').value),
    quantity: Number($('cheese-quantity').value),
    idempotencyKey: crypto.randomUUID(),
  };
  const response = await check(
    await fetch('/v1/cheese/orders', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    }),
  );
  const order = await response.json();
  say(`ordered ${order.orderId}`);
}

function showOrder(order) {
  const row = document.createElement('tr');
  row.dataset.orderId = order.orderId;
  for (const value of [order.sequence, order.orderId, order.type, order.age, order.quantity ?? 1, order.orderedBy, order.orderedAt]) {
    const cell = document.createElement('td');
    cell.textContent = value ?? '';
    row.append(cell);
  }
  $('order-rows').prepend(row);
}

let watching;
/**
 * Follows WatchOrders for as long as the page is open. It starts after the newest order (ListOrders) and resumes
 * after the last sequence it saw, so nothing committed from the page's start on is missed, even before the watch
 * stream is set up, and nothing is shown twice.
 */
async function watchOrders() {
  watching?.abort();
  const controller = new AbortController();
  watching = controller;
  let after;
  while (!controller.signal.aborted) {
    try {
      if (after === undefined) {
        const newest = await (await check(await fetch('/v1/cheese/orders?pageSize=1', { headers: headers(), signal: controller.signal }))).json();
        after = newest.orders?.[0]?.sequence ?? '0';
      }
      const reply = fetch(`/v1/cheese/orders:watch?afterSequence=${after}`, { headers: headers(), signal: controller.signal });
      $('watch-state').textContent = `watching after #${after}`;
      const response = await check(await reply);
      await readLines(response, (event) => {
        if (event.error) throw new Error(event.error.message);
        if (event.order) {
          after = event.order.sequence;
          showOrder(event.order);
        }
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      $('watch-state').textContent = `reconnecting (${error.message})`;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function guard(action) {
  return (event) => action(event).catch((error) => say(error.message, true));
}

function connect() {
  sessionStorage.setItem('gatehouse.token', tokenInput.value.trim());
  loadVoices().catch((error) => say(`voices: ${error.message}`, true));
  watchOrders();
}

$('speak-button').addEventListener('click', guard(speak));
$('recognize-button').addEventListener('click', guard(recognize));
$('order-form').addEventListener('submit', guard(placeOrder));
tokenInput.addEventListener('change', connect);
if (tokenInput.value) connect();
else say('paste a bearer token to start (gatehouse token mint)');
