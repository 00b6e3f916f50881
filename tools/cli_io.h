// What every subcommand's input and output go through, so that bad streams are errors:
// prompt and text files (regular files only, or "-" for standard input, bounded), writes to
// stdout that are checked (a full disk, a closed pipe: "error: writing output: <reason>", exit
// 1), and the removal of unfinished output files when the user interrupts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ember::cli {

// The most standard input read as one text (a prompt or a perplexity text).
inline constexpr size_t kMaxStdinBytes = size_t{256} << 20;

// A text file's bytes; "-" reads standard input to its end (at most kMaxStdinBytes).
std::string read_input_text(const std::string& path);

// Writes to stdout and flushes; throws ember::Error "writing output: <reason>" on failure.
void write_stdout(std::string_view text);
// The same, without throwing: false on failure (the reason is kept for finish_stdout).
bool try_write_stdout(std::string_view text) noexcept;
// Flushes and closes stdout; throws "writing output: <reason>" when anything written was lost.
void finish_stdout();

// SIGINT, SIGTERM, SIGHUP: remove the temporaries of unfinished output files, then die of the
// signal as before (exit status 128 + signal).
void install_interrupt_cleanup();

}  // namespace ember::cli
