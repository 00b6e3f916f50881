// The chat page as one raw string literal: plain HTML, CSS and JavaScript with no build step and
// no external resource (its Content-Security-Policy refuses any, so a mistake shows at once).
//
// What the page does, in the browser:
//   - at load (and whenever the API key changes) GET /v1/models, and show data[0].id;
//   - keep the conversation as an OpenAI messages array [{role, content}, ...], sent whole with
//     each request (the server keeps nothing between requests);
//   - POST /v1/chat/completions {model, messages, stream: true, max_tokens, temperature,
//     stream_options: {include_usage: true}} and read the Server-Sent Events from the response's
//     ReadableStream: `data: {chat.completion.chunk}` events append choices[0].delta.content to
//     the reply, `data: {"error": {...}}` ends it with that error, `data: [DONE]` ends it;
//   - Stop aborts the fetch (AbortController): the connection closes and the server stops
//     generating;
//   - an optional API key, kept in localStorage, goes out as `Authorization: Bearer KEY`.
// Model output only ever reaches the page through textContent, never as HTML.
//
// Stable hooks for tests (tests/server/web_page_test.mjs): #input, #send, #stop, #messages,
// #model, #max_tokens, #temperature, #api_key, #clear; each message is a `.msg` element with a
// role class (`user`, `assistant`, `error`) whose text is exactly the message (status notes go
// in a separate `.meta` element); document.body.dataset.state is idle, streaming or error.
#include "server/web_page.h"

namespace ember::server {

namespace {

// The delimiter `ember_chat_page` appears nowhere in the page, so `)ember_chat_page"` cannot end
// the literal early.
constexpr std::string_view kPage = R"ember_chat_page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'">
<link rel="icon" href="data:,">
<title>ember chat</title>
<style>
  :root {
    color-scheme: light dark;
    --bg: #f7f7f5; --fg: #1d1d1f; --muted: #6b6b70; --panel: #ffffff; --line: #d9d9de;
    --user: #dbe9ff; --assistant: #ffffff; --error-bg: #fde8e8; --error-fg: #9b1c1c; --accent: #2f6fdb;
  }
  @media (prefers-color-scheme: dark) {
    :root {
      --bg: #17181b; --fg: #e8e8ea; --muted: #9a9aa2; --panel: #202226; --line: #34363c;
      --user: #24395c; --assistant: #202226; --error-bg: #4a1f1f; --error-fg: #ffb4b4; --accent: #6f9ff0;
    }
  }
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body {
    display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  }
  header {
    display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 8px 16px;
    border-bottom: 1px solid var(--line); background: var(--panel);
  }
  header h1 { font-size: 17px; margin: 0; }
  #model { font-family: ui-monospace, monospace; color: var(--muted); }
  #model.bad { color: var(--error-fg); }
  header .settings { display: flex; flex-wrap: wrap; gap: 8px 12px; margin-left: auto; align-items: center; }
  header label { font-size: 13px; color: var(--muted); display: flex; align-items: center; gap: 4px; }
  header input { font: inherit; font-size: 13px; padding: 2px 4px; border: 1px solid var(--line);
                 border-radius: 4px; background: var(--bg); color: var(--fg); }
  #max_tokens, #temperature { width: 5.5em; }
  #api_key { width: 11em; }
  #messages { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px; }
  #messages:empty::before { content: "Send a message to start."; color: var(--muted); margin: auto; }
  .msg {
    max-width: min(46em, 92%); padding: 8px 12px; border-radius: 10px; white-space: pre-wrap;
    overflow-wrap: anywhere; border: 1px solid var(--line);
  }
  .msg.user { align-self: flex-end; background: var(--user); }
  .msg.user.failed { opacity: 0.55; text-decoration: line-through; }
  .msg.assistant { align-self: flex-start; background: var(--assistant); min-height: 2.3em; min-width: 3em; }
  .msg.assistant.streaming::after { content: "\25ae"; color: var(--accent); animation: blink 1s steps(1) infinite; }
  .msg.error { align-self: stretch; max-width: none; background: var(--error-bg); color: var(--error-fg); }
  .meta { align-self: flex-start; font-size: 12px; color: var(--muted); margin-top: -6px; padding-left: 4px; }
  @keyframes blink { 50% { opacity: 0; } }
  footer { display: flex; gap: 8px; padding: 10px 16px; border-top: 1px solid var(--line); background: var(--panel); }
  #input {
    flex: 1; resize: vertical; min-height: 2.6em; max-height: 40vh; font: inherit; padding: 6px 8px;
    border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg);
  }
  footer .buttons { display: flex; flex-direction: column; gap: 6px; }
  button {
    font: inherit; padding: 5px 14px; border-radius: 6px; border: 1px solid var(--line);
    background: var(--bg); color: var(--fg); cursor: pointer;
  }
  button:disabled { opacity: 0.45; cursor: default; }
  #send { background: var(--accent); border-color: var(--accent); color: #fff; }
</style>
</head>
<body data-state="idle">
<header>
  <h1>ember</h1>
  <span id="model" title="The model this server runs">loading…</span>
  <div class="settings">
    <label>max tokens <input id="max_tokens" type="number" min="1" step="1" value="64"></label>
    <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.7"></label>
    <label>API key <input id="api_key" type="password" autocomplete="off" spellcheck="false" placeholder="(none)"></label>
    <button id="clear" type="button" title="Forget the conversation">New chat</button>
  </div>
</header>
<main id="messages" aria-live="polite"></main>
<footer>
  <textarea id="input" rows="2" placeholder="Message (Enter sends, Shift+Enter starts a new line)" autofocus></textarea>
  <div class="buttons">
    <button id="send" type="button">Send</button>
    <button id="stop" type="button" disabled title="Stop the reply (Esc)">Stop</button>
  </div>
</footer>
<script>
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    messages: $('messages'), input: $('input'), send: $('send'), stop: $('stop'), clear: $('clear'),
    model: $('model'), maxTokens: $('max_tokens'), temperature: $('temperature'), apiKey: $('api_key'),
  };
  const KEY_STORAGE = 'ember.api_key';

  let conversation = [];   // [{role, content}]: every finished turn, sent whole with each request
  let modelId = null;      // data[0].id of GET /v1/models, null until it answered
  let controller = null;   // AbortController of the reply being streamed; null when none is
  let modelsRequest = 0;   // numbers GET /v1/models calls: only the latest one's answer counts

  function setState(state) {
    document.body.dataset.state = state;
    const busy = state === 'streaming';
    ui.send.disabled = busy;
    ui.stop.disabled = !busy;
  }

  // Appends a `.msg ROLE` element holding TEXT (as text, never parsed as HTML).
  function addMessage(role, text) {
    const el = document.createElement('div');
    el.className = 'msg ' + role;
    el.textContent = text;
    appendKeepingScroll(el);
    return el;
  }

  function addMeta(after) {
    const el = document.createElement('div');
    el.className = 'meta';
    after.after(el);
    return el;
  }

  // Follows the newest text only while the reader is at the bottom (scrolling up to read stays put).
  function appendKeepingScroll(el) {
    const atBottom = isAtBottom();
    ui.messages.append(el);
    if (atBottom) scrollToBottom();
  }
  function isAtBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 48;
  }
  function scrollToBottom() { ui.messages.scrollTop = ui.messages.scrollHeight; }

  function showError(text) {
    addMessage('error', text);
    setState('error');
  }

  function authHeaders(extra) {
    const headers = Object.assign({}, extra);
    const key = ui.apiKey.value.trim();
    if (key) headers['Authorization'] = 'Bearer ' + key;
    return headers;
  }

  // The text of an OpenAI error object {code, message, type} (or of whatever else came).
  function errorText(error) {
    if (typeof error === 'string') return error;
    if (error && typeof error.message === 'string') return error.message;
    return JSON.stringify(error);
  }

  // An Error "HTTP STATUS: MESSAGE" for a response that is not 2xx; MESSAGE is error.message of a
  // JSON error body, else the body's text, else the status text.
  async function httpError(resp) {
    let body = '';
    try { body = await resp.text(); } catch (_) { /* the body is gone: the status still says */ }
    let message = body.trim() || resp.statusText || 'request failed';
    try {
      const parsed = JSON.parse(body);
      if (parsed && parsed.error !== undefined) message = errorText(parsed.error);
    } catch (_) { /* not JSON: keep the text */ }
    return new Error('HTTP ' + resp.status + ': ' + message);
  }

  async function loadModel() {
    const request = ++modelsRequest;
    ui.model.textContent = 'loading…';
    ui.model.classList.remove('bad');
    try {
      const resp = await fetch('/v1/models', { headers: authHeaders(), cache: 'no-store' });
      if (!resp.ok) throw await httpError(resp);
      const body = await resp.json();
      if (request !== modelsRequest) return;
      const first = body && Array.isArray(body.data) ? body.data[0] : undefined;
      if (!first || typeof first.id !== 'string') throw new Error('/v1/models listed no model');
      modelId = first.id;
      ui.model.textContent = modelId;
      if (!controller) setState('idle');
    } catch (e) {
      if (request !== modelsRequest) return;
      modelId = null;
      ui.model.textContent = 'no model';
      ui.model.classList.add('bad');
      showError('Could not list the models: ' + e.message);
    }
  }

  // A Server-Sent Events parser fed with decoded text in pieces of any size: a piece may end in
  // the middle of a line (or between the \r and \n of a \r\n). Lines end in \n, \r\n or \r; a
  // blank line ends an event; the event's `data:` lines (one space after the colon is dropped)
  // are joined with \n and handed to onData. Lines starting with ':' are comments; other fields
  // (event:, id:, retry:) do not matter here.
  function sseParser(onData) {
    let buffer = '';
    let data = [];
    function line(text) {
      if (text === '') {
        if (data.length) { const event = data.join('\n'); data = []; onData(event); }
        return;
      }
      if (text[0] === ':') return;
      const colon = text.indexOf(':');
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? '' : text.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'data') data.push(value);
    }
    return {
      push(text) {
        buffer += text;
        const eol = /\r\n|\r|\n/g;
        let start = 0;
        let match;
        while ((match = eol.exec(buffer)) !== null) {
          if (match[0] === '\r' && eol.lastIndex === buffer.length) break;  // maybe half a \r\n
          line(buffer.slice(start, match.index));
          start = eol.lastIndex;
        }
        buffer = buffer.slice(start);
      },
      end() {  // the stream closed: a last line without its newline, and a last unended event
        if (buffer !== '') line(buffer.replace(/\r$/, ''));
        buffer = '';
        line('');
      },
    };
  }

  async function send() {
    if (controller) return;
    const text = ui.input.value;
    if (!text.trim()) return;

    const request = {
      messages: conversation.concat([{ role: 'user', content: text }]),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (modelId) request.model = modelId;
    const maxTokens = parseInt(ui.maxTokens.value, 10);
    if (Number.isFinite(maxTokens) && maxTokens > 0) request.max_tokens = maxTokens;
    const temperature = parseFloat(ui.temperature.value);
    if (Number.isFinite(temperature) && temperature >= 0) request.temperature = temperature;

    ui.input.value = '';
    const userEl = addMessage('user', text);
    const replyEl = addMessage('assistant', '');
    replyEl.classList.add('streaming');
    const metaEl = addMeta(replyEl);
    scrollToBottom();

    controller = new AbortController();
    setState('streaming');
    const started = performance.now();
    let reply = '';
    let pieces = 0;          // content chunks: the token count when no usage comes
    let firstAt = 0;         // when the first content arrived (ms, performance.now())
    let finish = null;       // choices[0].finish_reason of the last chunk
    let usage = null;        // {prompt_tokens, completion_tokens} of the usage chunk
    let done = false;        // [DONE] seen

    const onData = (data) => {
      if (data === '[DONE]') { done = true; return; }
      let chunk;
      try { chunk = JSON.parse(data); } catch (_) {
        throw new Error('The server sent an event that is not JSON: ' + data.slice(0, 200));
      }
      if (chunk.error !== undefined) throw new Error(errorText(chunk.error));
      if (chunk.usage) usage = chunk.usage;
      const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
      if (!choice) return;
      const piece = choice.delta ? choice.delta.content : undefined;
      if (typeof piece === 'string' && piece !== '') {
        if (!firstAt) firstAt = performance.now();
        const atBottom = isAtBottom();
        reply += piece;
        pieces++;
        replyEl.textContent = reply;
        if (atBottom) scrollToBottom();
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    };

    try {
      const resp = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/json', 'Accept': 'text/event-stream' }),
        body: JSON.stringify(request),
        signal: controller.signal,
      });
      if (!resp.ok) throw await httpError(resp);
      if (!resp.body) throw new Error('The response has no body to stream');
      const reader = resp.body.getReader();
      const decoder = new TextDecoder();  // keeps a UTF-8 sequence split across reads whole
      const sse = sseParser(onData);
      while (!done) {
        const { value, done: closed } = await reader.read();
        if (closed) { sse.push(decoder.decode()); sse.end(); break; }
        sse.push(decoder.decode(value, { stream: true }));
      }
      if (!done) throw new Error('The stream ended before data: [DONE]');
      reader.cancel().catch(() => {});  // [DONE] is the last event: nothing after it matters

      conversation = request.messages.concat([{ role: 'assistant', content: reply }]);
      const tokens = usage && Number.isFinite(usage.completion_tokens) ? usage.completion_tokens : pieces;
      const ended = performance.now();
      const notes = [finish === 'length' ? 'stopped at max tokens' : (finish || 'done'), tokens + ' tokens'];
      if (firstAt) notes.push('first token ' + Math.round(firstAt - started) + ' ms');
      if (tokens > 1 && ended > firstAt) notes.push(((tokens - 1) * 1000 / (ended - firstAt)).toFixed(1) + ' tokens/s');
      metaEl.textContent = notes.join(' · ');
      setState('idle');
    } catch (e) {
      if (e && e.name === 'AbortError') {
        // Stopped by the reader: what was shown stays in the conversation as the reply. With
        // nothing shown yet the turn is dropped and its text goes back into the input.
        if (reply !== '') {
          conversation = request.messages.concat([{ role: 'assistant', content: reply }]);
          replyEl.classList.add('stopped');
          metaEl.textContent = 'stopped';
        } else {
          replyEl.remove();
          metaEl.remove();
          userEl.classList.add('failed');
          if (ui.input.value === '') ui.input.value = text;
        }
        setState('idle');
      } else {
        // A failed turn is not kept: its text goes back into the input, to send again.
        if (reply === '') replyEl.remove();
        metaEl.remove();
        userEl.classList.add('failed');
        if (ui.input.value === '') ui.input.value = text;
        showError(e && e.message ? e.message : String(e));
      }
    } finally {
      replyEl.classList.remove('streaming');
      controller = null;
    }
  }

  function stop() { if (controller) controller.abort(); }

  ui.send.addEventListener('click', () => { send(); });
  ui.stop.addEventListener('click', stop);
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
    else if (e.key === 'Escape') stop();
  });
  ui.clear.addEventListener('click', () => {
    stop();
    conversation = [];
    ui.messages.replaceChildren();
    setState('idle');
    ui.input.focus();
  });

  // The key is read from storage once and written back (after typing pauses), then the model
  // list is asked for again with it: a wrong or missing key shows there first.
  function storage() { try { return window.localStorage; } catch (_) { return null; } }
  const store = storage();
  if (store) ui.apiKey.value = store.getItem(KEY_STORAGE) || '';
  let keyTimer = 0;
  ui.apiKey.addEventListener('input', () => {
    clearTimeout(keyTimer);
    keyTimer = setTimeout(() => {
      const key = ui.apiKey.value.trim();
      if (store) { if (key) store.setItem(KEY_STORAGE, key); else store.removeItem(KEY_STORAGE); }
      loadModel();
    }, 400);
  });

  setState('idle');
  loadModel();
})();
</script>
</body>
</html>
)ember_chat_page";

}  // namespace

std::string_view chat_page_html() { return kPage; }

}  // namespace ember::server
