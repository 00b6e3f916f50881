// The real client libraries against `ember serve`: npm's `openai` and `ollama`, given nothing
// but the base URL (and a placeholder key for openai). Run by serve_cli.sh's real_clients case:
//   CLIENTS_DIR=PREFIX node clients.mjs BASE_URL MODEL_ID   (PREFIX: npm install --prefix PREFIX openai ollama)
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.CLIENTS_DIR}/clients.js`);  // resolves in PREFIX/node_modules
const OpenAI = require('openai').default ?? require('openai');
const { Ollama } = require('ollama');

const [base, modelId] = process.argv.slice(2);
const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Tell me about cats.' }];
const check = async (name, fn) => {
  try {
    await fn();
    console.log(`ok: ${name}`);
  } catch (e) {
    console.error(`FAIL: ${name}: ${e.stack ?? e}`);
    process.exit(1);
  }
};

// ---- openai ----
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'placeholder' });
let whole = '';
await check('openai models.list', async () => {
  const page = await openai.models.list();
  assert.equal(page.data[0].id, modelId);
  assert.equal(page.data[0].object, 'model');
});
await check('openai chat.completions.create', async () => {
  const r = await openai.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.completion_tokens, 16);
  whole = r.choices[0].message.content;
});
await check('openai chat.completions.create stream', async () => {
  const stream = await openai.chat.completions.create({
    model: modelId, messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '', usage = null, finish = null, n = 0;
  for await (const chunk of stream) {
    n++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.equal(text, whole, 'the streamed text equals the whole reply');
  assert.ok(n >= 3 && finish !== null && usage?.completion_tokens === 16);
});
await check('openai stream aborted by the client', async () => {
  const controller = new AbortController();
  const stream = await openai.chat.completions.create(
    { model: modelId, messages, max_tokens: 2000, temperature: 0, stream: true }, { signal: controller.signal });
  let n = 0;
  try {
    for await (const chunk of stream) {
      if (++n === 5) controller.abort();
    }
  } catch (e) {
    assert.ok(e.name === 'APIUserAbortError' || e.name === 'AbortError', `abort error, got ${e.name}`);
  }
  assert.ok(n >= 5);
});
await check('openai completions.create', async () => {
  const r = await openai.completions.create({ model: modelId, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
  assert.equal(r.usage.completion_tokens, 5);
});
await check('openai error: empty messages is a BadRequestError', async () => {
  await assert.rejects(openai.chat.completions.create({ model: modelId, messages: [] }), (e) => {
    assert.equal(e.status, 400);
    assert.ok(e instanceof OpenAI.BadRequestError, `BadRequestError, got ${e.constructor.name}`);
    assert.match(e.message, /messages/);
    return true;
  });
});
await check('openai error: a prompt over the context', async () => {
  const long = 'word '.repeat(5000);
  await assert.rejects(openai.chat.completions.create({ model: modelId, messages: [{ role: 'user', content: long }] }),
    (e) => e.status === 400 && /context/.test(e.message));
});

// ---- ollama ----
const ollama = new Ollama({ host: base });
let chatText = '';
await check('ollama version', async () => {
  const v = await ollama.version();
  assert.match(v.version, /^\d+\.\d+\.\d+$/);
});
await check('ollama list', async () => {
  const r = await ollama.list();
  assert.equal(r.models[0].name, modelId);
  assert.equal(r.models[0].details.format, 'gguf');
});
await check('ollama show', async () => {
  const r = await ollama.show({ model: modelId });
  assert.equal(typeof r.template, 'string');
  assert.equal(r.model_info['general.architecture'], 'llama');
});
await check('ollama ps', async () => {
  const r = await ollama.ps();
  assert.equal(r.models[0].name, modelId);
});
await check('ollama chat', async () => {
  const r = await ollama.chat({ model: modelId, messages, options: { num_predict: 16, temperature: 0 } });
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.done, true);
  assert.equal(r.eval_count, 16);
  chatText = r.message.content;
  assert.equal(chatText, whole, 'the same conversation gives the same text in both dialects');
});
await check('ollama chat stream', async () => {
  const stream = await ollama.chat({ model: modelId, messages, stream: true, options: { num_predict: 16, temperature: 0 } });
  let text = '', last = null;
  for await (const part of stream) {
    text += part.message.content;
    last = part;
  }
  assert.equal(text, chatText);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'length');
});
await check('ollama generate', async () => {
  const r = await ollama.generate({ model: modelId, prompt: 'Once upon a time', raw: true, options: { num_predict: 5 } });
  assert.equal(typeof r.response, 'string');
  assert.equal(r.eval_count, 5);
});
await check('ollama error: an unknown role', async () => {
  await assert.rejects(ollama.chat({ model: modelId, messages: [{ role: 'wizard', content: 'hi' }] }), (e) => {
    assert.equal(e.status_code, 400);
    assert.match(e.error ?? e.message, /wizard/);
    return true;
  });
});
console.log('all client checks passed');
