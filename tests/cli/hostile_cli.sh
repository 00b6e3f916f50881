#!/usr/bin/env bash
# The CLI under a careless or hostile user (issue "what a hostile-user probe found"): outputs
# that are not regular files, stdout that cannot be written, a reader that goes away with SIGPIPE
# ignored, inputs that never end or block, interrupts during long writes, bad option values, and
# prompts from files. One case per run:
#
#   hostile_cli.sh CASE EMBER DATA_DIR STORIES WORK_DIR
#
# DATA_DIR is tests/data; STORIES the bundled model; WORK_DIR a scratch folder (made empty).
# Exit 0 when the case holds; otherwise a message saying what went wrong and exit 1.
set -uo pipefail

case_name="$1" ember="$2" data="$3" stories="$4" work="$5/$1"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
garden="$data/text/garden.txt"
tiny_f16="$data/models/tiny-f16.gguf"

die() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# run_ember ARGS...: runs ember (60 s at most: a hang fails), leaves rc, out, err.
run_ember() {
  timeout 60 "$ember" "$@" >out.txt 2>err.txt
  rc=$?
  out=$(cat out.txt) err=$(cat err.txt)
  [ "$rc" -ne 124 ] || die "ember $* did not finish in 60 s"
}
# run_to_full ARGS...: as run_ember, with stdout on /dev/full (every write fails: ENOSPC).
run_to_full() {
  timeout 60 "$ember" "$@" >/dev/full 2>err.txt
  rc=$?
  err=$(cat err.txt)
  [ "$rc" -ne 124 ] || die "ember $* did not finish in 60 s"
}
expect_rc() { [ "$rc" -eq "$1" ] || die "exit status $rc, expected $1; stderr: $err"; }
expect_err() { grep -qF -- "$1" err.txt || die "stderr lacks '$1': $err"; }
# The command fails (status 1) with "error: writing output: <reason>" as its only stderr line.
expect_write_error() {
  expect_rc 1
  [ "$(head -c 7 err.txt)" = "error: " ] || die "stderr does not start with 'error: ': $err"
  expect_err "writing output: $1"
}
no_temporaries() {
  local left
  left=$(ls -a | grep '\.tmp[0-9]' || true)
  [ -z "$left" ] || die "temporary files left behind: $left"
}
# run_until_tmp_then SIGNAL ARGS...: runs ember in the foreground (so SIGINT keeps its default
# disposition: a shell's background jobs ignore it), sends SIGNAL once its temporary exists.
run_until_tmp_then() {
  local sig="$1"; shift
  rm -f pid
  (
    for _ in $(seq 600); do
      if [ -s pid ] && ls ./*.tmp[0-9]* >/dev/null 2>&1; then kill "-$sig" "$(cat pid)"; exit 0; fi
      sleep 0.05
    done
  ) &
  local watcher=$!
  timeout 120 sh -c 'echo $$ > pid; exec "$0" "$@"' "$ember" "$@" >out.txt 2>err.txt
  rc=$?
  wait "$watcher"
  err=$(cat err.txt)
}

case "$case_name" in
# ---- 1. an existing output that is not a regular file is never replaced ------------------------
quantize_onto_fifo)
  mkfifo out.gguf
  run_ember quantize "$tiny_f16" out.gguf Q8_0
  expect_rc 1; expect_err "out.gguf: exists and is a FIFO, not a regular file: refusing to replace it"
  [ -p out.gguf ] || die "the FIFO was replaced"
  no_temporaries ;;
synth_onto_fifo)
  mkfifo out.gguf
  run_ember synth --shape test-tiny --type Q8_0 out.gguf
  expect_rc 1; expect_err "refusing to replace it"
  [ -p out.gguf ] || die "the FIFO was replaced"
  no_temporaries ;;
quantize_onto_directory)
  mkdir out.gguf
  run_ember quantize "$tiny_f16" out.gguf Q8_0
  expect_rc 1; expect_err "out.gguf: is a directory"
  [ -d out.gguf ] || die "the directory was replaced" ;;
quantize_through_symlink)
  echo old > target.gguf && chmod 640 target.gguf && ln -s target.gguf link.gguf
  run_ember quantize "$tiny_f16" link.gguf Q8_0
  expect_rc 0
  [ -L link.gguf ] || die "the symbolic link was replaced by a file"
  [ "$(stat -c %a target.gguf)" = 640 ] || die "the target lost its permissions: $(stat -c %a target.gguf)"
  run_ember info -m link.gguf --no-tensors
  expect_rc 0
  grep -qF "general.file_type" out.txt || die "the target is not the quantized model: $out"
  no_temporaries ;;

# ---- 2. a write error on stdout is an error ----------------------------------------------------
stdout_full_generate) run_to_full generate -m "$stories" -p hi -n 64 --temp 0; expect_write_error "No space left on device" ;;
stdout_full_eval) run_to_full eval -m "$stories" -p hi; expect_write_error "No space left on device" ;;
stdout_full_tokenize) run_to_full tokenize -m "$stories" -p hi; expect_write_error "No space left on device" ;;
stdout_full_info) run_to_full info -m "$stories"; expect_write_error "No space left on device" ;;
stdout_full_devices) run_to_full devices; expect_write_error "No space left on device" ;;
stdout_full_perplexity)  # its progress comes first on stderr
  run_to_full perplexity -m "$stories" -c 128 -f "$garden"
  expect_rc 1; expect_err "error: writing output: No space left on device" ;;
stdout_full_bench)
  "$ember" synth --shape test-tiny --type Q8_0 tiny.gguf 2>/dev/null || die "synth failed"
  run_to_full bench -m tiny.gguf -p 8 -n 2 -r 1 --no-probes
  expect_rc 1; expect_err "error: writing output: No space left on device" ;;
stdout_closed_tokenize)
  timeout 60 "$ember" tokenize -m "$stories" -p hi >&- 2>err.txt; rc=$?; err=$(cat err.txt)
  expect_write_error "Bad file descriptor" ;;

# ---- 3. a reader that went away, with SIGPIPE ignored, stops the generation ---------------------
sigpipe_ignored_stops_generation)
  (trap '' PIPE; timeout 60 "$ember" generate -m "$stories" -c 256 --ctx-shift -n -1 -p Once 2>err.txt | head -c 10 >/dev/null
   echo "${PIPESTATUS[0]}" > status)
  rc=$(cat status) err=$(cat err.txt)
  [ "$rc" -ne 124 ] || die "generation went on for 60 s after its reader had gone"
  expect_write_error "Broken pipe" ;;

# ---- 5. inputs that never end or block: regular files only ------------------------------------
perplexity_text_dev_zero)
  run_ember perplexity -m "$stories" -f /dev/zero
  expect_rc 1; expect_err "/dev/zero: not a regular file (a character device)" ;;
perplexity_text_fifo)
  mkfifo text
  run_ember perplexity -m "$stories" -f text
  expect_rc 1; expect_err "text: not a regular file (a FIFO)" ;;
perplexity_text_directory)
  mkdir text
  run_ember perplexity -m "$stories" -f text
  expect_rc 1; expect_err "text: not a regular file (a directory)" ;;
info_model_fifo)
  mkfifo model.gguf
  run_ember info -m model.gguf
  expect_rc 1; expect_err "model.gguf: not a regular file (a FIFO)" ;;
kl_base_fifo)
  mkfifo base.kld
  run_ember perplexity -m "$stories" --kl-divergence base.kld
  expect_rc 1; expect_err "base.kld: not a regular file (a FIFO)" ;;

# ---- 6. an interrupted write leaves no temporary file ------------------------------------------
sigint_synth_removes_temporary)
  run_until_tmp_then INT synth --shape llama-0.5b --type Q8_0 out.gguf
  [ "$rc" -eq 130 ] || die "exit status $rc, expected 130 (SIGINT); stderr: $err"
  [ ! -e out.gguf ] || die "an output file exists after the interrupt"
  no_temporaries ;;
sigterm_synth_removes_temporary)
  run_until_tmp_then TERM synth --shape llama-0.5b --type Q8_0 out.gguf
  [ "$rc" -eq 143 ] || die "exit status $rc, expected 143 (SIGTERM); stderr: $err"
  [ ! -e out.gguf ] || die "an output file exists after the signal"
  no_temporaries ;;

# ---- 7. option values out of range are refused (usage errors: exit status 2) -------------------
generate_negative_temperature) run_ember generate -m "$stories" --temp -1 -n 2; expect_rc 2; expect_err "--temp: must be a number >= 0" ;;
generate_negative_top_k) run_ember generate -m "$stories" --top-k -5 -n 2; expect_rc 2; expect_err "--top-k: must be a number >= 0" ;;
generate_negative_threads) run_ember generate -m "$stories" -t -1000000 -n 2; expect_rc 2; expect_err "--threads: Value -1000000 not in range 0 to 1024" ;;
synth_seed_out_of_range) run_ember synth --shape test-tiny --seed 99999999999999999999999 out.gguf; expect_rc 2; expect_err "--seed: must be an integer from 0 to 18446744073709551615"; [ ! -e out.gguf ] || die "a file was written" ;;
kl_base_unwritable_fails_first)
  run_ember perplexity -m "$stories" -c 128 -f "$garden" --kl-divergence-base /proc/ember-not-writable/x.kld
  expect_rc 1; expect_err "/proc/ember-not-writable/x.kld: cannot create"
  ! grep -qF "[1]" err.txt || die "the run was computed before the output was found unwritable: $err" ;;

# ---- 8. prompts from a file or standard input ---------------------------------------------------
prompt_file_matches_argument)
  printf 'Once upon a time' > prompt.txt
  run_ember tokenize -m "$stories" -p "Once upon a time"; expect_rc 0; by_arg=$out
  run_ember tokenize -m "$stories" -f prompt.txt; expect_rc 0
  [ "$out" = "$by_arg" ] || die "tokenize -f gives '$out', -p gives '$by_arg'"
  run_ember eval -m "$stories" -f prompt.txt; expect_rc 0
  [ "$out" = "$by_arg" ] || die "eval -f gives '$out', expected '$by_arg'"
  run_ember generate -m "$stories" -p "Once upon a time" -n 8 --temp 0; expect_rc 0; by_arg=$out
  timeout 60 "$ember" generate -m "$stories" -f - -n 8 --temp 0 <prompt.txt >out.txt 2>err.txt; rc=$?; out=$(cat out.txt)
  expect_rc 0
  [ "$out" = "$by_arg" ] || die "generate -f - gives '$out', -p gives '$by_arg'"
  run_ember generate -m "$stories" -p hi -f prompt.txt; expect_rc 2; expect_err "excludes" ;;
prompt_file_larger_than_an_argument)
  # 200 KiB: the OS refuses an argument over 128 KiB; a file has no such limit.
  yes "Once upon a time there was a garden." | head -c 204800 > big.txt
  run_ember tokenize -m "$stories" -f big.txt
  expect_rc 0
  n=$(echo "$out" | wc -w)
  [ "$n" -gt 40000 ] || die "only $n tokens for 200 KiB of text"
  run_ember generate -m "$stories" -f big.txt -n 2
  expect_rc 1; expect_err "longer than the context" ;;
prompt_file_missing)
  run_ember generate -m "$stories" -f /nonexistent/prompt.txt -n 2
  expect_rc 1; expect_err "/nonexistent/prompt.txt: cannot open" ;;

generate_parallel_matches_alone)
  # --parallel 2 over 3 prompt lines: each completion is the one `generate` gives alone (greedy).
  printf 'Once upon a time\nTom had a big red ball.\n\nOne day\n' > prompts.txt
  run_ember generate --parallel 2 -f prompts.txt -n 12 --temp 0 -c 128
  expect_rc 0; expect_err "3 requests"
  [ "$(wc -l < out.txt)" -eq 3 ] || die "expected 3 completions: $out"
  i=0
  while IFS= read -r prompt; do
    [ -n "$prompt" ] || continue
    i=$((i + 1))
    alone=$(timeout 60 "$ember" generate -m "$stories" -p "$prompt" -n 12 --temp 0 -c 128 2>/dev/null | head -n 1)
    line=$(sed -n "${i}p" out.txt)
    [ "$line" = "[$i] $prompt$alone" ] || die "completion $i: '$line', alone: '[$i] $prompt$alone'"
  done < prompts.txt
  printf '\n  \n' > blank.txt
  run_ember generate --parallel 2 -f blank.txt
  expect_rc 1; expect_err "no prompts"
  run_ember generate --parallel 65 -p x
  expect_rc 2 ;;
progress_log_is_plain_lines)
  # stderr to a file: plain progress lines (one every 5 s, then a final one), never '\r' frames.
  run_ember synth --shape test-tiny --type Q8_0 out.gguf
  expect_rc 0; expect_err "synth: 100.0%"
  ! grep -q $'\r' err.txt || die "synth wrote '\\r' into a log: $(cat -A err.txt | head -c 300)"
  [ "$(wc -l < err.txt)" -le 4 ] || die "synth wrote $(wc -l < err.txt) lines for a second of work"
  run_ember quantize "$tiny_f16" q8.gguf Q8_0
  expect_rc 0; expect_err "quantize: 100.0%"
  ! grep -q $'\r' err.txt || die "quantize wrote '\\r' into a log"
  run_ember perplexity -m "$stories" -f "$garden" -c 128
  expect_rc 0; expect_err "perplexity: 100.0%"
  ! grep -q $'\r' err.txt || die "perplexity wrote '\\r' into a log" ;;
progress_terminal_draws_a_bar)
  # On a terminal (script(1) gives ember a pseudo-terminal): a bar redrawn with '\r', line ended.
  timeout 60 script -qec "$ember synth --shape test-tiny --type Q8_0 out.gguf" /dev/null > tty.txt 2>&1
  rc=$?; err=$(cat -A tty.txt | head -c 400)
  expect_rc 0
  grep -q $'\rsynth \[' tty.txt || die "no bar drawn on a terminal: $err"
  grep -q "wrote out.gguf" tty.txt || die "no summary: $err" ;;

*) die "unknown case" ;;
esac
exit 0
