// One progress reporter for long work (synth, quantize, perplexity, bench's synthetic models).
// On a terminal: a bar redrawn in place with '\r', at most 10 times a second. Elsewhere (a log
// file, a pipe, CI): a plain line every few seconds and a final line, so `ember synth 2>log`
// gives a short readable log instead of one frame per tensor on a single line.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace ember::cli {

class Progress {
public:
    struct Options {
        std::FILE* out = stderr;
        bool terminal = false;              // redraw a bar in place (else: plain lines)
        double frame_interval_s = 0.1;      // terminal: at most 10 redraws a second
        double line_interval_s = 5.0;       // plain: a line every 5 s
        std::function<double()> clock;      // seconds, monotonic (empty: steady_clock)
    };

    // `label` starts each plain line ("synth", "quantize"). Output goes to stderr, as a bar
    // when stderr is a terminal.
    explicit Progress(std::string label);
    Progress(std::string label, Options options);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // `fraction` of the work is done (0..1); `detail` says what (a tensor's name, a running PPL).
    // Shown when the interval since the last output has passed.
    void update(double fraction, std::string_view detail);
    // The work is complete: the last frame with a newline, or one final plain line.
    void finish(std::string_view detail = {});
    // The work stopped (an error follows): end a drawn bar's line so the message starts a line.
    void abandon();

    double elapsed_s() const;

private:
    void emit(double fraction, std::string_view detail, bool final_line);

    std::string label_;
    Options options_;
    double start_s_ = 0;
    double last_output_s_ = -1;  // when the last frame or line was written; -1: nothing yet
    bool bar_open_ = false;      // a bar is on the terminal's current line
    bool finished_ = false;
};

// Whether `stream` is a terminal (isatty on its descriptor).
bool is_terminal(std::FILE* stream);

}  // namespace ember::cli
