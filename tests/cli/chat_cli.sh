#!/usr/bin/env bash
# `ember chat` as a person uses it: on a pseudo-terminal (script(1)), with Ctrl-C during a reply
# and at the prompt, and scripted through a pipe. The model is a random-weight llama carrying
# the Phi-3 vocabulary and its chat template (made here by `ember synth`): its text is nonsense,
# but its prompts, the cache reuse between turns and the commands are what is checked.
#
#   chat_cli.sh CASE EMBER DATA_DIR WORK_DIR
set -uo pipefail

case_name="$1" ember="$2" data="$3" work="$4/$1"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
die() { echo "FAIL [$case_name]: $*" >&2; exit 1; }

model="$work/phi3-tiny.gguf"
timeout 120 "$ember" synth --shape test-tiny --type Q8_0 --vocab "$data/vocab/ggml-vocab-phi-3.gguf" "$model" 2>synth.txt \
  || die "synth failed: $(cat synth.txt)"

case "$case_name" in
scripted_turns_reuse_the_cache)
  # Not a terminal: each line is a turn or a command; no prompt is printed.
  printf 'Hello there!\nWhat is your name?\n/save conv.json\n/system Be brief.\nTell me a story.\n/clear\nAgain.\n/nonsense\n/bye\nnot read\n' |
    timeout 120 "$ember" chat -m "$model" -n 8 --temp 0 --verbose >out.txt 2>err.txt
  rc=$?
  [ "$rc" -eq 0 ] || die "exit status $rc: $(cat err.txt)"
  ! grep -q '>>>' out.txt || die "a prompt was printed when stdin is not a terminal"
  [ "$(grep -c '^\[turn ' err.txt)" -eq 4 ] || die "expected 4 turns: $(cat err.txt)"
  grep -q '^\[turn 1: prompt [0-9]* tokens, 0 reused' err.txt || die "turn 1 reused cells: $(cat err.txt)"
  # Turn 2 resends turn 1: everything cached is reused (13 prompt + 8 generated - 1 = 20 cells).
  t1=$(sed -n 's/^\[turn 1: prompt \([0-9]*\) tokens.*/\1/p' err.txt)
  r2=$(sed -n 's/^\[turn 2: prompt [0-9]* tokens, \([0-9]*\) reused.*/\1/p' err.txt)
  [ "$r2" -ge "$t1" ] || die "turn 2 reused $r2 tokens, turn 1's prompt was $t1: $(cat err.txt)"
  # /system changes the first message: turn 3 re-renders from there, so it reuses little.
  grep -q 'Set the system message.' out.txt || die "no /system reply: $(cat out.txt)"
  grep -q 'Cleared the conversation.' out.txt || die "no /clear reply"
  grep -q "^\[turn 4: prompt [0-9]* tokens, [0-9]* reused" err.txt || die "no turn after /clear"
  grep -q "Unknown command '/nonsense'" out.txt || die "unknown command not reported: $(cat out.txt)"
  grep -q 'Saved 4 messages to conv.json.' out.txt || die "no /save reply: $(cat out.txt)"
  grep -q '"role": "assistant"' conv.json || die "conv.json: $(cat conv.json)"
  # The saved conversation renders with `ember chat-template` (it is a messages array).
  timeout 60 "$ember" chat-template -m "$model" --messages conv.json --add-generation-prompt >render.txt 2>&1 \
    || die "chat-template on the saved conversation: $(cat render.txt)"
  grep -q '<|user|>' render.txt || die "render: $(cat render.txt)" ;;
terminal_ctrl_c_stops_the_reply_not_the_program)
  # On a pseudo-terminal: the prompt, a long reply stopped by Ctrl-C, Ctrl-C at the prompt, /bye.
  # Each key is typed once the screen shows what it answers (a fast machine may otherwise fill
  # the context before Ctrl-C comes). `exec`: script(1) runs the command under $SHELL, and a
  # shell such as dash left waiting in between would take the Ctrl-C itself and exit 130.
  wait_for() {  # wait_for PATTERN: until tty.txt holds PATTERN (at most 60 s)
    for _ in $(seq 600); do grep -q -- "$1" tty.txt 2>/dev/null && return 0; sleep 0.1; done
    return 1
  }
  : >tty.txt
  { wait_for '>>> ' && printf 'Tell me everything.\r' && wait_for 'everything.' && sleep 1 && printf '\003' &&
      wait_for 'stop flag\]' && sleep 0.5 && printf '\003' && wait_for 'Use /bye' && printf 'Hi\r' &&
      wait_for '\[turn 2: '; sleep 0.5; printf '/bye\r'; sleep 1; } |
    timeout 120 script -qec "exec $ember chat -m $model -c 4096 --temp 0 --verbose" /dev/null >tty.txt 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || die "exit status $rc: $(cat -A tty.txt | tail -c 600)"
  grep -q '>>> ' tty.txt || die "no prompt on a terminal: $(cat -A tty.txt | head -c 400)"
  grep -q '(stopped)' tty.txt || die "Ctrl-C did not stop the reply: $(cat -A tty.txt | tail -c 600)"
  grep -q 'stop flag\]' tty.txt || die "the stopped turn's stats: $(cat -A tty.txt | tail -c 600)"
  grep -q 'Use /bye or Ctrl-D to leave.' tty.txt || die "Ctrl-C at the prompt: $(cat -A tty.txt | tail -c 600)"
  grep -q '\[turn 2: ' tty.txt || die "no turn after the Ctrl-C: $(cat -A tty.txt | tail -c 600)" ;;
*) die "unknown case" ;;
esac
exit 0
