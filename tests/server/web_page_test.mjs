// The browser half of tests/server/web_page_test.sh: drives the page of a running `ember serve`
// in headless Chromium (playwright-core, Debian's /usr/bin/chromium) and checks it against the
// server's API called directly from node.
//
//   node web_page_test.mjs BASE_URL API_KEY WORK_DIR
//
// BASE_URL is http://127.0.0.1:PORT of a server started with --api-key API_KEY; playwright-core
// is looked up in WORK_DIR/node/node_modules. Writes WORK_DIR/web_page.png. Prints one line per
// step; the first failure prints `FAIL: ...` and exits 1.
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';

const [baseUrl, apiKey, work] = process.argv.slice(2);
if (!baseUrl || !apiKey || !work) {
  console.error('FAIL: usage: node web_page_test.mjs BASE_URL API_KEY WORK_DIR');
  process.exit(2);
}
const origin = new URL(baseUrl).origin;
const require = createRequire(path.join(work, 'node', 'package.json'));
const { chromium } = require('playwright-core');

class TestFailure extends Error {}
function check(condition, message) { if (!condition) throw new TestFailure(message); }
const show = (value) => JSON.stringify(value);
const step = (text) => console.log('ok - ' + text);

// One request to the server from node: {status, json}, json null when the body is not JSON.
async function api(pathname, { method = 'GET', body, key = apiKey } = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (key) headers.Authorization = 'Bearer ' + key;
  const resp = await fetch(origin + pathname, { method, headers, body: body && JSON.stringify(body) });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* left null: the caller says what it expected */ }
  return { status: resp.status, json, text };
}

// The reply of a request sent without streaming (stream_options only goes with stream: true).
async function directReply(request) {
  const body = { ...request, stream: false };
  delete body.stream_options;
  const r = await api('/v1/chat/completions', { method: 'POST', body });
  check(r.status === 200, `direct request: HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  const content = r.json && r.json.choices && r.json.choices[0] && r.json.choices[0].message &&
    r.json.choices[0].message.content;
  check(typeof content === 'string', `direct request: no choices[0].message.content in ${r.text.slice(0, 500)}`);
  return content;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  // No internet here: without these Chromium waits on connections it opens by itself.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 60000,
});

let failed = false;
try {
  // ---- the server as the page will see it ------------------------------------------------
  const models = await api('/v1/models');
  check(models.status === 200, `GET /v1/models with the key: HTTP ${models.status}: ${models.text.slice(0, 300)}`);
  const modelId = models.json && models.json.data && models.json.data[0] && models.json.data[0].id;
  check(typeof modelId === 'string' && modelId !== '', `GET /v1/models: no data[0].id in ${models.text.slice(0, 300)}`);
  const noKey = await api('/v1/models', { key: null });
  check(noKey.status === 401, `GET /v1/models without the key: expected HTTP 401, got ${noKey.status}`);
  step(`the server lists model ${show(modelId)} and wants the key`);

  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  const foreign = [];      // requests that left the server's origin (the page must make none)
  const pageErrors = [];   // uncaught exceptions in the page
  const chatRequests = []; // {body, headers} of each POST /v1/chat/completions the page made
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin + '/') && !url.startsWith('data:')) foreign.push(url);
    if (url === origin + '/v1/chat/completions' && req.method() === 'POST') {
      chatRequests.push({ body: JSON.parse(req.postData() || 'null'), headers: req.headers() });
    }
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  const state = () => page.evaluate(() => document.body.dataset.state);
  const text = (selector) => page.locator(selector).last().textContent();
  const count = (selector) => page.locator(selector).count();
  const waitNotStreaming = () => page.waitForFunction(() => document.body.dataset.state !== 'streaming',
                                                      null, { timeout: 120000 });

  // ---- load without a key: the model list fails with the server's 401 ----------------------
  const resp = await page.goto(origin + '/');
  check(resp && resp.status() === 200, `GET / in the browser: HTTP ${resp && resp.status()}`);
  check((resp.headers()['content-type'] || '').startsWith('text/html'),
        `GET / content-type ${show(resp.headers()['content-type'])}, expected text/html`);
  for (const id of ['input', 'send', 'stop', 'messages', 'model', 'max_tokens', 'temperature', 'api_key']) {
    check(await count('#' + id) === 1, `the page has no #${id}`);
  }
  await page.waitForFunction(() => document.body.dataset.state === 'error');
  const keyError = await text('.msg.error');
  check(keyError.includes('HTTP 401'), `without a key the page shows ${show(keyError)}, expected HTTP 401`);
  check(await text('#model') !== modelId, 'the model id shows although /v1/models refused the request');
  step(`without a key the page shows ${show(keyError)}`);

  // ---- the key field: the model shows, and the key survives a reload (localStorage) ---------
  await page.fill('#api_key', apiKey);
  await page.waitForFunction((id) => document.getElementById('model').textContent === id, modelId);
  check(await state() === 'idle', `state ${await state()} after the key was accepted, expected idle`);
  await page.reload();
  await page.waitForFunction((id) => document.getElementById('model').textContent === id, modelId);
  check(await page.inputValue('#api_key') === apiKey, 'the API key was not kept across a reload');
  check(await state() === 'idle', `state ${await state()} after the reload, expected idle`);
  check(await page.inputValue('#max_tokens') === '64', `#max_tokens defaults to ${await page.inputValue('#max_tokens')}`);
  check(await page.inputValue('#temperature') === '0.7', `#temperature defaults to ${await page.inputValue('#temperature')}`);
  step(`with the key the page shows model ${show(modelId)}; the key is kept across a reload`);

  // Sends what #input holds (by a click on #send or Enter in #input), waits for the reply, and
  // checks the request the page made and the reply against the same request without streaming.
  async function turn(how, expectMessages) {
    const requestsBefore = chatRequests.length;
    const repliesBefore = await count('.msg.assistant');
    if (how === 'click') await page.click('#send');
    else await page.press('#input', 'Enter');
    await waitNotStreaming();
    const s = await state();
    check(s === 'idle', `state ${s} after the reply, expected idle; the page shows ${show(await text('#messages'))}`);
    check(chatRequests.length === requestsBefore + 1, `the page made ${chatRequests.length - requestsBefore} chat requests, expected 1`);
    check(await count('.msg.assistant') === repliesBefore + 1, 'no new .msg.assistant element');
    const reply = await text('.msg.assistant');
    check(reply !== '', 'the reply element is empty');
    const { body, headers } = chatRequests[chatRequests.length - 1];
    check(headers.authorization === 'Bearer ' + apiKey, `the page sent Authorization ${show(headers.authorization)}`);
    check(body.stream === true, `the page sent stream ${show(body.stream)}`);
    check(body.model === modelId, `the page sent model ${show(body.model)}`);
    check(body.temperature === 0, `the page sent temperature ${show(body.temperature)}, #temperature holds 0`);
    check(body.max_tokens === 64, `the page sent max_tokens ${show(body.max_tokens)}`);
    check(isDeepStrictEqual(body.messages, expectMessages),
          `the page sent messages ${show(body.messages)}, expected ${show(expectMessages)}`);
    const direct = await directReply(body);
    check(reply === direct, `the streamed reply ${show(reply)} differs from the non-streamed ${show(direct)}`);
    check(await page.inputValue('#input') === '', 'the input was not emptied after sending');
    return reply;
  }

  // ---- two turns at temperature 0: the conversation is kept and sent whole -----------------
  await page.fill('#temperature', '0');
  await page.fill('#input', 'Once upon a time');
  await page.press('#input', 'Shift+Enter');
  await page.locator('#input').pressSequentially('there was a cat.');
  const first = 'Once upon a time\nthere was a cat.';
  check(await page.inputValue('#input') === first, `Shift+Enter: the input holds ${show(await page.inputValue('#input'))}`);
  check(await count('.msg') === 0 && chatRequests.length === 0, 'Shift+Enter sent the message');
  const reply1 = await turn('click', [{ role: 'user', content: first }]);
  step(`Send: the streamed reply equals the non-streamed one: ${show(reply1)}`);

  const second = 'What did the cat do?';
  await page.fill('#input', second);
  const reply2 = await turn('enter', [{ role: 'user', content: first }, { role: 'assistant', content: reply1 },
                                      { role: 'user', content: second }]);
  step(`Enter: the second turn carries the first; its reply equals the non-streamed one: ${show(reply2)}`);
  check(await count('.msg.user') === 2 && await count('.msg.assistant') === 2,
        `expected 2 user and 2 assistant messages, the page has ${await count('.msg.user')} and ${await count('.msg.assistant')}`);
  const shot = path.join(work, 'web_page.png');
  await page.screenshot({ path: shot, fullPage: true });

  // ---- Stop: a long reply is cut as soon as its first text shows ---------------------------
  // The click comes from a MutationObserver in the page, so it lands within the same task
  // that shows the first text, long before 2000 tokens could have been generated.
  await page.click('#clear');
  check(await count('.msg') === 0, 'New chat left messages on the page');
  await page.fill('#max_tokens', '2000');  // long even for a fast machine
  await page.fill('#temperature', '0.7');
  await page.evaluate(() => {
    const observer = new MutationObserver(() => {
      const reply = document.querySelector('.msg.assistant');
      if (reply && reply.textContent !== '') { observer.disconnect(); document.getElementById('stop').click(); }
    });
    observer.observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true });
  });
  await page.fill('#input', 'Tell me a long story.');
  await page.click('#send');
  await waitNotStreaming();
  check(await state() === 'idle', `state ${await state()} after Stop, expected idle: ${show(await text('#messages'))}`);
  const stoppedClass = await page.locator('.msg.assistant').last().getAttribute('class');
  const stopped = await text('.msg.assistant');
  check(/\bstopped\b/.test(stoppedClass), `the reply finished before Stop took effect (class ${show(stoppedClass)}): ${show(stopped)}`);
  check(stopped !== '', 'the stopped reply is empty');
  check(await text('.meta') === 'stopped', `the stopped reply's note is ${show(await text('.meta'))}`);
  const health = await api('/health', { key: null });
  check(health.status === 200 && health.json && health.json.status === 'ok', `GET /health after Stop: ${health.status} ${health.text}`);
  // The stopped reply stays in the conversation: the next turn carries it.
  await page.fill('#max_tokens', '8');
  await page.fill('#input', 'Go on.');
  await page.click('#send');
  await waitNotStreaming();
  check(await state() === 'idle', `state ${await state()} after the turn after Stop: ${show(await text('#messages'))}`);
  const afterStop = chatRequests[chatRequests.length - 1].body.messages;
  check(isDeepStrictEqual(afterStop, [{ role: 'user', content: 'Tell me a long story.' },
                                      { role: 'assistant', content: stopped }, { role: 'user', content: 'Go on.' }]),
        `the turn after Stop sent ${show(afterStop)}`);
  step(`Stop cut the reply at ${show(stopped)}; the next turn carries it`);

  // ---- errors: a wrong key on the chat request shows the server's status and message --------
  await page.fill('#api_key', 'wrong-key');
  await page.waitForFunction(() => document.getElementById('model').textContent === 'no model');
  const wrong = await api('/v1/chat/completions', { method: 'POST', key: 'wrong-key',
    body: { messages: [{ role: 'user', content: 'x' }], stream: true } });
  check(wrong.status === 401 && wrong.json && wrong.json.error && typeof wrong.json.error.message === 'string',
        `POST /v1/chat/completions with a wrong key: HTTP ${wrong.status} ${wrong.text.slice(0, 300)}`);
  const errorsBefore = await count('.msg.error');
  await page.fill('#input', 'Hello?');
  await page.click('#send');
  await waitNotStreaming();
  check(await state() === 'error', `state ${await state()} after a refused request, expected error`);
  check(await count('.msg.error') === errorsBefore + 1, 'the refused request showed no error');
  const shown = await text('.msg.error');
  check(shown === 'HTTP 401: ' + wrong.json.error.message, `the page shows ${show(shown)}, expected ${show('HTTP 401: ' + wrong.json.error.message)}`);
  check(await page.inputValue('#input') === 'Hello?', 'the refused message was not put back into the input');
  step(`a refused request shows ${show(shown)} and gives the text back`);

  // ---- errors inside the stream (served by the browser, as the server cannot be made to fail) -
  // One body each, with \r\n and \n line ends mixed: an error event after some text, and a
  // stream that closes without [DONE]. Both must end in the error state, with the text kept.
  await page.fill('#api_key', apiKey);
  await page.waitForFunction((id) => document.getElementById('model').textContent === id, modelId);
  const bodies = [
    ['data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"par"}}]}\r\n\r\n' +
       ': a comment\n' + 'data: {"choices":[{"index":0,"delta":{"content":"tial"}}]}\n\n' +
       'data: {"error":{"code":500,"message":"the backend failed","type":"server_error"}}\n\n',
     'the backend failed'],
    ['data: {"choices":[{"index":0,"delta":{"content":"cut short"}}]}\n\n', 'The stream ended before data: [DONE]'],
  ];
  for (const [sse, message] of bodies) {
    await page.route(origin + '/v1/chat/completions', (route) =>
      route.fulfill({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: sse }), { times: 1 });
    await page.fill('#input', 'Fail, please.');
    await page.click('#send');
    await waitNotStreaming();
    check(await state() === 'error', `state ${await state()} after ${show(sse)}, expected error`);
    check(await text('.msg.error') === message, `after ${show(sse)} the page shows ${show(await text('.msg.error'))}`);
    check(await page.inputValue('#input') === 'Fail, please.', 'the failed message was not put back into the input');
  }
  const partial = await text('.msg.assistant');
  check(partial === 'cut short', `the text before the failure is not shown: ${show(partial)}`);
  step('an error event and a stream without [DONE] show as errors');

  check(pageErrors.length === 0, `the page threw: ${pageErrors.join(' | ')}`);
  check(foreign.length === 0, `the page requested other origins: ${foreign.join(' ')}`);
  step('no uncaught exceptions, no request outside the server');
  console.log(`screenshot: ${shot}`);
} catch (e) {
  failed = true;
  console.error('FAIL: ' + (e instanceof TestFailure ? e.message : (e && e.stack) || e));
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
