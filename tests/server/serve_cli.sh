#!/usr/bin/env bash
# `ember serve` from the outside, with curl and jq: every endpoint (status codes, headers, field
# names, SSE and NDJSON framing), bad input, authentication and CORS, the queue, cancellation
# by a client that hangs up, 8 clients at once, and SIGTERM draining. The model is stories260K
# or a random-weight llama carrying the Phi-3 vocabulary and chat template (made by `ember synth`).
#
#   serve_cli.sh CASE EMBER DATA_DIR WORK_DIR
set -uo pipefail

case_name="$1" ember="$2" data="$3" work="$4/$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
die() {
  echo "FAIL [$case_name]: $*" >&2
  [ -f server.log ] && { echo "--- server log (tail):" >&2; tail -n 20 server.log >&2; }
  exit 1
}
command -v jq >/dev/null || die "jq is not installed (scripts/common.sh installs it)"
command -v curl >/dev/null || die "curl is not installed (scripts/common.sh installs it)"

stories="$data/../../models/stories260K.gguf"
[ -f "$stories" ] || stories="$(cd "$data/../.." && pwd)/models/stories260K.gguf"
phi3() {  # a random-weight model with a real chat template
  [ -f phi3-tiny.gguf ] && return 0
  timeout 120 "$ember" synth --shape test-tiny --type Q8_0 --vocab "$data/vocab/ggml-vocab-phi-3.gguf" phi3-tiny.gguf \
    2>synth.txt || die "synth failed: $(cat synth.txt)"
}

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null; }
trap cleanup EXIT
# start MODEL [serve flags...]: starts the server on a free port; sets $base.
start() {
  local model="$1"; shift
  "$ember" serve -m "$model" --port 0 "$@" 2>server.log &
  server_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' server.log)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || die "the server exited before listening"
    sleep 0.1
  done
  [ -n "$port" ] || die "no 'listening on' line within 60 s"
  base="http://127.0.0.1:$port"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] || die "/health is not 200 once listening"
}
alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] || die "the server is down after: $1"; }
# post PATH JSON [curl args...]: body to out.json, status echoed
post() {
  local path="$1" body="$2"; shift 2
  curl -s -o out.json -D headers.txt -w '%{http_code}' -H 'Content-Type: application/json' "$@" --data-binary "$body" "$base$path"
}
expect_status() {  # expect_status WANT GOT WHAT
  [ "$2" = "$1" ] || die "$3: HTTP $2, expected $1: $(head -c 400 out.json)"
}
metric() { curl -s "$base/metrics" | sed -n "s/^ember_$1 //p"; }
chat_body() {  # chat_body TEXT MAX_TOKENS [extra JSON fields]
  jq -cn --arg t "$1" --argjson n "$2" --argjson x "${3:-{\}}" \
    '{model:"m", messages:[{role:"user", content:$t}], max_tokens:$n, temperature:0} + $x'
}

case "$case_name" in
openai_endpoints)
  phi3
  start phi3-tiny.gguf -np 2 -c 512 --alias tiny
  curl -s -D headers.txt "$base/v1/models" >out.json
  grep -qi '^content-type: application/json' headers.txt || die "/v1/models content type: $(cat headers.txt)"
  [ "$(jq -r '.object, .data[0].id, .data[0].object, (.data[0].created|type), .data[0].owned_by' out.json | tr '\n' ' ')" = \
    "list tiny model number ember " ] || die "/v1/models: $(cat out.json)"
  [ "$(curl -s "$base/models" | jq -r '.data[0].id')" = tiny ] || die "/models"

  # Non-streaming chat.
  expect_status 200 "$(post /v1/chat/completions "$(chat_body 'Hello there' 12)")" "chat"
  jq -e '(.id|startswith("chatcmpl-")) and .object == "chat.completion" and (.created|type) == "number"
         and .model == "tiny" and (.system_fingerprint|type) == "string"
         and .choices[0].index == 0 and .choices[0].message.role == "assistant"
         and (.choices[0].message.content|type) == "string" and .choices[0].finish_reason == "length"
         and .choices[0].logprobs == null
         and .usage.completion_tokens == 12 and .usage.total_tokens == .usage.prompt_tokens + 12
         and (.usage.prompt_tokens_details.cached_tokens|type) == "number"' out.json >/dev/null \
    || die "chat response fields: $(cat out.json)"
  text=$(jq -r '.choices[0].message.content' out.json)
  # The same request again: greedy, so the same text, and its prompt comes from the prefix cache.
  post /v1/chat/completions "$(chat_body 'Hello there' 12)" >/dev/null
  [ "$(jq -r '.choices[0].message.content' out.json)" = "$text" ] || die "greedy replies differ: '$text' vs $(cat out.json)"
  jq -e '.usage.prompt_tokens_details.cached_tokens > 0' out.json >/dev/null || die "no cached tokens the second time: $(cat out.json)"
  # max_completion_tokens is max_tokens' newer name.
  post /v1/chat/completions '{"messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":3,"num_keep":5,"extra":{"x":1}}' >/dev/null
  jq -e '.usage.completion_tokens == 3' out.json >/dev/null || die "max_completion_tokens / unknown fields: $(cat out.json)"

  # Streaming chat: SSE framing, the role delta first, content deltas, finish, usage, [DONE].
  curl -sN -D headers.txt -H 'Content-Type: application/json' \
    --data-binary "$(chat_body 'Hello there' 12 '{"stream":true,"stream_options":{"include_usage":true}}')" \
    "$base/v1/chat/completions" >stream.txt
  grep -qi '^content-type: text/event-stream' headers.txt || die "stream content type: $(cat headers.txt)"
  grep -qi '^x-accel-buffering: no' headers.txt || die "no X-Accel-Buffering: $(cat headers.txt)"
  tail -c 14 stream.txt | grep -q '^data: \[DONE\]$' || die "the stream does not end with data: [DONE]: $(tail -c 300 stream.txt)"
  # Every event is one "data: " line followed by an empty line.
  awk 'NR % 2 == 1 && !/^data: / { bad = 1 } NR % 2 == 0 && $0 != "" { bad = 1 } END { exit bad }' stream.txt \
    || die "SSE framing: $(head -c 600 stream.txt)"
  grep '^data: {' stream.txt | sed 's/^data: //' >chunks.jsonl
  jq -se '.[0].choices[0].delta.role == "assistant"
          and all(.[]; .object == "chat.completion.chunk" and (.id|startswith("chatcmpl-")))
          and (map(.id) | unique | length) == 1
          and .[-2].choices[0].finish_reason == "length" and .[-2].choices[0].delta == {}
          and .[-1].choices == [] and .[-1].usage.completion_tokens == 12' chunks.jsonl >/dev/null \
    || die "stream chunks: $(cat chunks.jsonl | head -c 1500)"
  [ "$(jq -rj '.choices[0].delta.content // empty' chunks.jsonl)" = "$text" ] || die "streamed text differs from the non-streamed"

  # Stop strings: the text ends before the first match, which is not sent; finish_reason stop.
  cut=$(printf '%s' "$text" | cut -c 5-7)
  if [ -n "$cut" ]; then
    post /v1/chat/completions "$(chat_body 'Hello there' 12 "$(jq -cn --arg s "$cut" '{stop:[$s, "never-matches"]}')")" >/dev/null
    got=$(jq -r '.choices[0].message.content' out.json)
    [ "$got" = "${text%%"$cut"*}" ] || die "stop '$cut': got '$got' from '$text'"
    [ "$(jq -r '.choices[0].finish_reason' out.json)" = stop ] || die "stop: finish_reason $(cat out.json)"
  fi
  # logprobs: one entry per token, the top alternatives sorted, the chosen one among them (greedy).
  post /v1/chat/completions "$(chat_body 'Hello there' 4 '{"logprobs":true,"top_logprobs":3}')" >/dev/null
  jq -e '(.choices[0].logprobs.content | length) == 4
         and all(.choices[0].logprobs.content[]; .logprob <= 0 and (.top_logprobs|length) == 3
                 and .top_logprobs[0].logprob >= .top_logprobs[1].logprob and .token == .top_logprobs[0].token
                 and (.bytes|type) == "array")' out.json >/dev/null || die "logprobs: $(cat out.json)"

  # Text completions, streaming and not.
  expect_status 200 "$(post /v1/completions '{"prompt":"Once upon a time","max_tokens":6,"temperature":0}')" "completions"
  jq -e '.object == "text_completion" and (.id|startswith("cmpl-")) and (.choices[0].text|type) == "string"
         and .choices[0].finish_reason == "length" and .usage.completion_tokens == 6' out.json >/dev/null \
    || die "completions: $(cat out.json)"
  ctext=$(jq -r '.choices[0].text' out.json)
  curl -sN -H 'Content-Type: application/json' --data-binary '{"prompt":"Once upon a time","max_tokens":6,"temperature":0,"stream":true}' \
    "$base/completions" >stream.txt
  tail -c 14 stream.txt | grep -q '^data: \[DONE\]$' || die "completions stream end: $(tail -c 200 stream.txt)"
  [ "$(grep '^data: {' stream.txt | sed 's/^data: //' | jq -rj '.choices[0].text')" = "$ctext" ] || die "streamed completion differs"
  post /v1/completions '{"prompt":[1,2,3],"max_tokens":2}' >/dev/null
  jq -e '.usage.prompt_tokens == 3' out.json >/dev/null || die "token prompt: $(cat out.json)"

  # tokenize / detokenize round trip.
  expect_status 200 "$(post /tokenize '{"content":"Hello world","with_pieces":true}')" "tokenize"
  jq -e '(.tokens|length) > 0 and (.tokens[0].id|type) == "number" and (.tokens[0].piece|type) == "string"' out.json >/dev/null \
    || die "tokenize: $(cat out.json)"
  ids=$(jq -c '[.tokens[].id]' out.json)
  post /detokenize "{\"tokens\":$ids}" >/dev/null
  [ "$(jq -r .content out.json)" = " Hello world" ] || [ "$(jq -r .content out.json)" = "Hello world" ] \
    || die "detokenize: $(cat out.json)"

  # The access log: one line per request with method, path, status, tokens, time.
  grep -qE '^127\.0\.0\.1 POST /v1/chat/completions 200 prompt=[0-9]+ cached=[0-9]+ generated=12 length [0-9.]+ms$' server.log \
    || die "no access-log line for a chat request"
  grep -qE '^127\.0\.0\.1 GET /v1/models 200 [0-9.]+ms$' server.log || die "no access-log line for /v1/models" ;;

ollama_endpoints)
  phi3
  start phi3-tiny.gguf -np 2 -c 512 --alias tiny
  [ "$(curl -s "$base/")" = "Ollama is running" ] || die "GET /"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -I "$base/")" = 200 ] || die "HEAD /"
  curl -s "$base/api/version" | jq -e '.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' >/dev/null || die "/api/version"
  curl -s "$base/api/tags" >out.json
  jq -e '.models[0].name == "tiny" and .models[0].model == "tiny" and (.models[0].size > 0)
         and (.models[0].digest|test("^[0-9a-f]{64}$")) and (.models[0].modified_at|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))
         and .models[0].details.format == "gguf" and .models[0].details.family == "llama"
         and .models[0].details.quantization_level == "Q8_0"' out.json >/dev/null || die "/api/tags: $(cat out.json)"
  curl -s "$base/api/ps" | jq -e '.models[0].name == "tiny" and (.models[0].size_vram|type) == "number"
         and (.models[0].expires_at|type) == "string"' >/dev/null || die "/api/ps"
  expect_status 200 "$(post /api/show '{"model":"tiny"}')" "/api/show"
  jq -e '.model_info["general.architecture"] == "llama" and (.template|contains("<|user|>"))
         and .details.family == "llama" and (.capabilities|index("completion")) != null' out.json >/dev/null \
    || die "/api/show: $(head -c 600 out.json)"
  expect_status 404 "$(post /api/show '{"model":"no-such-model"}')" "/api/show of another model"
  jq -e '.error|type == "string"' out.json >/dev/null || die "Ollama errors are {\"error\": \"...\"}: $(cat out.json)"

  # /api/chat streams NDJSON by default; the last line has the counts and durations.
  curl -sN -D headers.txt -H 'Content-Type: application/json' \
    --data-binary '{"model":"tiny","messages":[{"role":"user","content":"Hello there"}],"options":{"num_predict":8,"temperature":0}}' \
    "$base/api/chat" >stream.txt
  grep -qi '^content-type: application/x-ndjson' headers.txt || die "/api/chat content type: $(cat headers.txt)"
  jq -se 'all(.[]; .model == "tiny" and (.created_at|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")))
          and all(.[:-1][]; .done == false and .message.role == "assistant")
          and .[-1].done == true and .[-1].done_reason == "length" and .[-1].eval_count == 8
          and (.[-1] | (.total_duration, .load_duration, .prompt_eval_count, .prompt_eval_duration, .eval_duration) | type) == "number"' \
    stream.txt >/dev/null || die "/api/chat stream: $(head -c 1200 stream.txt)"
  streamed=$(jq -rj '.message.content' stream.txt)
  post /api/chat '{"model":"tiny","stream":false,"messages":[{"role":"user","content":"Hello there"}],"options":{"num_predict":8,"temperature":0}}' >/dev/null
  jq -e '.done == true and .eval_count == 8' out.json >/dev/null || die "/api/chat stream false: $(cat out.json)"
  [ "$(jq -r .message.content out.json)" = "$streamed" ] || die "/api/chat: streamed and whole replies differ"
  # The same conversation through OpenAI's endpoint gives the same text (one template, one sampler).
  post /v1/chat/completions "$(chat_body 'Hello there' 8)" >/dev/null
  [ "$(jq -r '.choices[0].message.content' out.json)" = "$streamed" ] || die "Ollama and OpenAI replies differ"
  # /api/generate: the template applied to the prompt unless raw; stop strings in options.
  curl -sN -H 'Content-Type: application/json' --data-binary '{"model":"tiny","prompt":"Hello there","options":{"num_predict":8,"temperature":0}}' \
    "$base/api/generate" >stream.txt
  [ "$(jq -rj '.response // empty' stream.txt)" = "$streamed" ] || die "/api/generate differs from /api/chat"
  jq -se '.[-1].done == true and .[-1].done_reason == "length"' stream.txt >/dev/null || die "/api/generate end: $(tail -c 400 stream.txt)"
  post /api/generate '{"model":"tiny","prompt":"Once upon a time","raw":true,"stream":false,"options":{"num_predict":4}}' >/dev/null
  jq -e '.done == true and (.response|type) == "string" and .eval_count == 4' out.json >/dev/null || die "raw generate: $(cat out.json)"
  post /api/generate '{"model":"tiny"}' >/dev/null  # an empty prompt loads the model
  jq -e '.done == true and .done_reason == "load"' out.json >/dev/null || die "load request: $(cat out.json)" ;;

bad_input)
  start "$stories" -np 2 -c 128 --max-body 65536
  expect_status 400 "$(post /v1/chat/completions '{"messages": [')" "malformed JSON"
  jq -e '.error.code == 400 and .error.type == "invalid_request_error" and (.error.message|test("JSON"))' out.json >/dev/null \
    || die "malformed JSON body: $(cat out.json)"
  expect_status 400 "$(post /v1/chat/completions '')" "empty body"
  expect_status 400 "$(post /v1/chat/completions '[1,2]')" "a JSON array"
  expect_status 400 "$(post /v1/chat/completions '{"messages":"hi"}')" "messages as a string"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[]}')" "empty messages"
  expect_status 400 "$(post /v1/chat/completions '{}')" "no messages"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"wizard","content":"x"}]}')" "unknown role"
  jq -e '.error.message|test("wizard")' out.json >/dev/null || die "the unknown role is not named: $(cat out.json)"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":5}]}')" "content as a number"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}')" "temperature as a string"
  jq -e '.error.message|test("temperature")' out.json >/dev/null || die "the field is not named: $(cat out.json)"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}')" "max_tokens -1"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"max_tokens":2.5}')" "max_tokens 2.5"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"n":2}')" "n 2"
  expect_status 400 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"top_p":0}')" "top_p 0"
  # max_tokens 10^9 is capped by the context: the reply ends at the context's end.
  expect_status 200 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"max_tokens":1000000000}')" "max_tokens 1e9"
  jq -e '.usage.total_tokens <= 128' out.json >/dev/null || die "max_tokens 1e9 not capped: $(cat out.json)"
  # Invalid UTF-8 inside a JSON string is malformed JSON.
  printf '{"messages":[{"role":"user","content":"\xff\xfe"}]}' >bad_utf8.json
  expect_status 400 "$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @bad_utf8.json "$base/v1/chat/completions")" "invalid UTF-8"
  # A prompt over the context: 400 exceed_context_size_error with the counts, before any streaming.
  long=$(printf 'word %.0s' $(seq 400))
  expect_status 400 "$(post /v1/chat/completions "$(chat_body "$long" 5 '{"stream":true}')")" "a prompt over the context"
  jq -e '.error.type == "exceed_context_size_error" and .error.n_ctx == 128 and .error.n_prompt_tokens > 128' out.json >/dev/null \
    || die "exceed_context_size_error body: $(cat out.json)"
  # 10 000 messages: over this context, so the same error (rendered and counted, not a crash).
  jq -cn '{messages: [range(10000) | {role: (if . % 2 == 0 then "user" else "assistant" end), content: "hi"}]}' >many.json
  code=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @many.json "$base/v1/chat/completions")
  [ "$code" = 400 ] || [ "$code" = 413 ] || die "10000 messages: HTTP $code: $(head -c 300 out.json)"
  # A body over --max-body: 413 with a JSON error.
  head -c 100000 /dev/zero | tr '\0' 'a' | sed 's/^/{"prompt":"/; s/$/"}/' >huge.json
  code=$(curl -s -o out.json -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @huge.json "$base/v1/completions")
  [ "$code" = 413 ] || die "a body over --max-body: HTTP $code"
  alive "a huge body"
  expect_status 404 "$(curl -s -o out.json -w '%{http_code}' "$base/v1/nothing")" "an unknown path"
  jq -e '.error.type == "not_found_error"' out.json >/dev/null || die "404 body: $(cat out.json)"
  # Paths that look like files are never served.
  expect_status 404 "$(curl -s -o out.json -w '%{http_code}' --path-as-is "$base/../../etc/passwd")" "a file path"
  # Ollama's dialect: its error shape.
  expect_status 400 "$(post /api/chat '{"messages":[{"role":"user"}]}')" "Ollama message without content"
  jq -e '.error|type == "string"' out.json >/dev/null || die "Ollama error shape: $(cat out.json)"
  expect_status 400 "$(post /api/generate '{"prompt":"x","options":{"num_predict":"many"}}')" "num_predict as a string"
  # After all that, it still answers.
  alive "bad input"
  expect_status 200 "$(post /v1/chat/completions '{"messages":[{"role":"user","content":"Once"}],"max_tokens":3}')" "a good request after bad ones" ;;

auth_and_cors)
  start "$stories" -np 1 -c 128 --api-key s3cret
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ] || die "/health must stay public"
  expect_status 401 "$(curl -s -o out.json -w '%{http_code}' "$base/v1/models")" "no key"
  jq -e '.error.type == "authentication_error" and .error.code == 401' out.json >/dev/null || die "401 body: $(cat out.json)"
  expect_status 401 "$(curl -s -o out.json -w '%{http_code}' -H 'Authorization: Bearer wrong' "$base/v1/models")" "a wrong key"
  expect_status 401 "$(curl -s -o out.json -w '%{http_code}' -H 'Authorization: Bearer s3cret-and-more' "$base/v1/models")" "a longer key"
  expect_status 200 "$(curl -s -o out.json -w '%{http_code}' -H 'Authorization: Bearer s3cret' "$base/v1/models")" "Bearer key"
  expect_status 200 "$(curl -s -o out.json -w '%{http_code}' -H 'X-Api-Key: s3cret' "$base/api/tags")" "X-Api-Key"
  expect_status 401 "$(post /api/chat '{"messages":[{"role":"user","content":"x"}]}')" "Ollama chat without a key"
  # CORS: a preflight is answered before authentication; the Origin is reflected.
  curl -s -o /dev/null -D headers.txt -X OPTIONS -H 'Origin: http://webui.example' \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization, content-type' \
    "$base/v1/chat/completions"
  grep -q '^HTTP/1.1 204' headers.txt || die "preflight status: $(cat headers.txt)"
  grep -qi '^access-control-allow-origin: http://webui.example' headers.txt || die "preflight origin: $(cat headers.txt)"
  grep -qi '^access-control-allow-headers: .*Authorization.*Content-Type' headers.txt || die "preflight headers: $(cat headers.txt)"
  [ "$(grep -ci '^access-control-allow-origin' headers.txt)" = 1 ] || die "the CORS header is repeated: $(cat headers.txt)"
  curl -s -o /dev/null -D headers.txt -H 'Origin: http://webui.example' -H 'Authorization: Bearer s3cret' "$base/v1/models"
  grep -qi '^access-control-allow-origin: http://webui.example' headers.txt || die "CORS on a response: $(cat headers.txt)"
  curl -s -o /dev/null -D headers.txt "$base/health"
  ! grep -qi '^access-control-allow-origin' headers.txt || die "CORS headers without an Origin"
  # The default bind address is this machine only.
  grep -q '^listening on http://127\.0\.0\.1:' server.log || die "not bound to 127.0.0.1 by default" ;;

concurrency)
  # 8 clients at once, different prompts, greedy: each gets exactly what it gets alone.
  phi3
  start phi3-tiny.gguf -np 4 -c 512 --cache-mib 0
  for i in $(seq 8); do
    post /v1/chat/completions "$(chat_body "Story number $i about a $(printf 'cat\ndog\nfox\nowl\nbee\nant\nelk\nyak' | sed -n "${i}p")" 24)" >/dev/null
    jq -r '.choices[0].message.content' out.json >alone.$i.txt
  done
  steps_before=$(metric decode_steps_total) seqs_before=$(metric step_sequences_total)
  clients=()
  for i in $(seq 8); do
    curl -s -H 'Content-Type: application/json' \
      --data-binary "$(chat_body "Story number $i about a $(printf 'cat\ndog\nfox\nowl\nbee\nant\nelk\nyak' | sed -n "${i}p")" 24 '{"stream":true}')" \
      "$base/v1/chat/completions" >together.$i.sse &
    clients+=($!)
  done
  wait "${clients[@]}"  # (a plain `wait` would wait for the server too)
  for i in $(seq 8); do
    grep '^data: {' together.$i.sse | sed 's/^data: //' | jq -rj '.choices[0].delta.content // empty' >together.$i.txt
    printf '\n' >>together.$i.txt
    cmp -s alone.$i.txt together.$i.txt || die "client $i: alone '$(cat alone.$i.txt)' vs together '$(cat together.$i.txt)'"
  done
  steps=$(( $(metric decode_steps_total) - steps_before )) seqs=$(( $(metric step_sequences_total) - seqs_before ))
  [ "$seqs" -gt "$steps" ] || die "the 8 clients were not batched together ($seqs sequences in $steps steps)"
  echo "8 clients: $seqs sequences in $steps decode steps" ;;

cancellation)
  # A client that hangs up mid-stream frees its slot within a decode step or so.
  # (Long replies, so that a fast machine cannot finish them before the client leaves.)
  phi3
  start phi3-tiny.gguf -np 2 -c 16384
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 16000 '{"stream":true}')" \
    "$base/v1/chat/completions" >stream.txt &
  client=$!
  for _ in $(seq 300); do [ "$(wc -l <stream.txt)" -gt 20 ] && break; sleep 0.05; done
  [ "$(metric requests_processing)" = 1 ] || die "the stream is not running"
  kill "$client"
  t0=$(date +%s%N)
  for _ in $(seq 500); do [ "$(metric requests_processing)" = 0 ] && break; sleep 0.01; done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$(metric requests_processing)" = 0 ] || die "the slot is still busy 5 s after the client left"
  [ "$(metric requests_cancelled_total)" = 1 ] || die "the cancel is not counted"
  gen=$(metric generated_tokens_total)
  [ "$gen" -lt 16000 ] || die "generation went on to the end ($gen tokens)"
  echo "slot freed $ms ms after the client hung up (stopped at $gen tokens)"
  # Non-streaming too: the client gives up (curl --max-time) and the job stops.
  curl -s --max-time 0.5 -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 16000)" \
    "$base/v1/chat/completions" >/dev/null
  for _ in $(seq 500); do [ "$(metric requests_processing)" = 0 ] && break; sleep 0.01; done
  [ "$(metric requests_cancelled_total)" = 2 ] || die "a non-streaming client that gave up was not cancelled"
  grep -qE 'POST /v1/chat/completions 200 prompt=[0-9]+ cached=[0-9]+ generated=[0-9]+ cancelled' server.log \
    || die "the access log does not say cancelled" ;;

queue_full)
  phi3
  start phi3-tiny.gguf -np 1 -c 16384 --queue 1
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 16000 '{"stream":true}')" \
    "$base/v1/chat/completions" >one.txt &
  first=$!
  for _ in $(seq 300); do [ "$(metric requests_processing)" = 1 ] && break; sleep 0.02; done
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Then the rest' 5 '{"stream":true}')" \
    "$base/v1/chat/completions" >two.txt &
  second=$!
  for _ in $(seq 300); do [ "$(metric requests_queued)" = 1 ] && break; sleep 0.02; done
  [ "$(metric requests_queued)" = 1 ] || die "the second request is not queued"
  expect_status 503 "$(post /v1/chat/completions "$(chat_body 'One too many' 5)")" "a full queue"
  grep -qi '^retry-after: [0-9]' headers.txt || die "no Retry-After on 503: $(cat headers.txt)"
  jq -e '.error.type == "unavailable_error" and .error.code == 503' out.json >/dev/null || die "503 body: $(cat out.json)"
  [ "$(metric requests_rejected_total)" = 1 ] || die "the rejection is not counted"
  # /v1/models and /metrics answer at once meanwhile.
  [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$base/v1/models")" = 200 ] || die "/v1/models waits for generation"
  kill "$first" 2>/dev/null
  wait "$second"
  tail -c 14 two.txt | grep -q '^data: \[DONE\]$' || die "the queued request did not finish: $(tail -c 300 two.txt)" ;;

drain)
  phi3
  start phi3-tiny.gguf -np 1 -c 4096
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 3000 '{"stream":true}')" \
    "$base/v1/chat/completions" >inflight.txt &
  inflight=$!
  for _ in $(seq 300); do [ "$(metric requests_processing)" = 1 ] && break; sleep 0.02; done
  kill -TERM "$server_pid"
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 503 ] && break; sleep 0.02; done
  [ "$(curl -s -o out.json -w '%{http_code}' "$base/health")" = 503 ] || die "/health is not 503 while draining"
  [ "$(jq -r .status out.json)" = draining ] || die "health body while draining: $(cat out.json)"
  expect_status 503 "$(post /v1/chat/completions "$(chat_body 'Late' 5)")" "a new request while draining"
  wait "$inflight"
  tail -c 14 inflight.txt | grep -q '^data: \[DONE\]$' || die "the in-flight request did not finish: $(tail -c 300 inflight.txt)"
  grep '^data: {' inflight.txt | sed 's/^data: //' | jq -se '.[-1].choices[0].finish_reason != null' >/dev/null \
    || die "the in-flight request was cut"
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$server_pid" 2>/dev/null || die "the server did not exit after draining"
  wait "$server_pid"
  rc=$?
  server_pid=""
  [ "$rc" = 0 ] || die "exit status $rc after draining"
  grep -q 'drained: stopping' server.log || die "no drain message" ;;

drain_delay)
  # With --drain-delay, SIGTERM turns /health to 503 at once but new requests are still served for
  # that long (a balancer's health check takes the replica out meanwhile); then they get 503.
  phi3
  start phi3-tiny.gguf -np 2 -c 16384 --drain-delay 1.5
  # What a balancer or an autoscaler reads: queue depth, busy slots, prefix-cache hits, draining.
  curl -s "$base/metrics" >metrics.txt
  for m in requests_queued requests_processing slots prompt_cache_hit_tokens_total draining; do
    grep -q "^# TYPE ember_$m " metrics.txt && grep -qE "^ember_$m [0-9]" metrics.txt || die "/metrics has no ember_$m"
  done
  [ "$(metric draining)" = 0 ] || die "draining before SIGTERM"
  kill -TERM "$server_pid"
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 503 ] && break; sleep 0.02; done
  [ "$(curl -s -o out.json -w '%{http_code}' "$base/health")" = 503 ] || die "/health is not 503 after SIGTERM"
  [ "$(jq -r .status out.json)" = draining ] || die "health body while leaving: $(cat out.json)"
  [ "$(metric draining)" = 1 ] || die "the draining gauge is not 1 after SIGTERM"
  grep -q 'drain delay over' server.log && die "the drain delay ended too early"
  expect_status 200 "$(post /v1/chat/completions "$(chat_body 'Still welcome' 4)")" "a request within the drain delay"
  # A long one started within the delay runs on after it.
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 16000 '{"stream":true}')" \
    "$base/v1/chat/completions" >inflight.txt &
  client=$!
  for _ in $(seq 300); do [ "$(metric requests_processing)" = 1 ] && break; sleep 0.02; done
  [ "$(metric requests_processing)" = 1 ] || die "a stream started within the drain delay is not running"
  for _ in $(seq 250); do grep -q 'drain delay over' server.log && break; sleep 0.02; done
  grep -q 'drain delay over' server.log || die "no 'drain delay over' within 5 s of a 1.5 s delay"
  expect_status 503 "$(post /v1/chat/completions "$(chat_body 'Too late' 4)")" "a request after the drain delay"
  [ "$(metric requests_processing)" = 1 ] || die "the stream was cut when the delay ended"
  kill "$client" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$server_pid" 2>/dev/null || die "the server did not exit once idle after the drain delay"
  wait "$server_pid"
  rc=$?
  server_pid=""
  [ "$rc" = 0 ] || die "exit status $rc after draining" ;;

interrupt_twice)
  # The first SIGINT drains like SIGTERM; a second one ends the running requests and exits 130.
  phi3
  start phi3-tiny.gguf -np 1 -c 16384
  curl -sN -H 'Content-Type: application/json' --data-binary "$(chat_body 'Tell me everything' 16000 '{"stream":true}')" \
    "$base/v1/chat/completions" >stream.txt &
  client=$!
  for _ in $(seq 300); do [ "$(metric requests_processing)" = 1 ] && break; sleep 0.02; done
  kill -INT "$server_pid"
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 503 ] && break; sleep 0.02; done
  kill -INT "$server_pid"
  t0=$(date +%s)
  wait "$server_pid"
  rc=$?
  server_pid=""
  [ "$rc" = 130 ] || die "exit status $rc after a second SIGINT"
  [ $(( $(date +%s) - t0 )) -le 5 ] || die "a second SIGINT took more than 5 s to stop the server"
  wait "$client"
  grep -q 'interrupted twice: stopping now' server.log || die "no message for the second SIGINT" ;;

startup_errors)
  # What stops the server from starting is one clear line and exit status 1 (2 for the CLI).
  start "$stories" -np 1 -c 128
  timeout 30 "$ember" serve -m "$stories" --port "$port" >/dev/null 2>err.txt
  rc=$?
  [ "$rc" = 1 ] && grep -q "^error: cannot bind 127.0.0.1:$port" err.txt || die "a port in use: rc $rc: $(cat err.txt)"
  alive "a second server on its port"
  timeout 30 "$ember" serve -m no-such-model.gguf --port 0 >/dev/null 2>err.txt
  [ $? = 1 ] && grep -q '^error: no-such-model.gguf: cannot open' err.txt || die "a missing model: $(cat err.txt)"
  : >empty.key
  timeout 30 "$ember" serve -m "$stories" --port 0 --api-key-file empty.key >/dev/null 2>err.txt
  [ $? = 1 ] && grep -q 'holds no key' err.txt || die "an empty key file: $(cat err.txt)"
  timeout 30 "$ember" serve -m "$stories" --port 0 -np 0 >/dev/null 2>err.txt
  [ $? = 2 ] || die "-np 0 is a command-line error: $(cat err.txt)" ;;

real_clients)
  # npm's openai and ollama packages, installed once into the build tree (no option beyond the
  # base URL and a placeholder key).
  command -v node >/dev/null || die "node is not installed (scripts/common.sh installs nodejs)"
  clients="$4/node"
  if [ ! -f "$clients/node_modules/openai/package.json" ] || [ ! -f "$clients/node_modules/ollama/package.json" ]; then
    mkdir -p "$clients"
    timeout 300 npm install --prefix "$clients" --no-audit --no-fund openai@6 ollama@0.6 >npm.txt 2>&1 \
      || die "npm install openai ollama failed: $(tail -5 npm.txt)"
  fi
  phi3
  start phi3-tiny.gguf -np 2 -c 2048 --alias tiny
  CLIENTS_DIR="$clients" timeout 120 node "$here/clients.mjs" "$base" tiny >clients.txt 2>&1 \
    || { cat clients.txt >&2; die "a client check failed"; }
  cat clients.txt
  alive "the clients" ;;

*) die "unknown case" ;;
esac
exit 0
