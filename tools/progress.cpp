#include "tools/progress.h"

#include "core/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <unistd.h>

namespace ember::cli {
namespace {

double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr int kBarWidth = 30;
constexpr size_t kDetailWidth = 32;

}  // namespace

bool is_terminal(std::FILE* stream) { return stream != nullptr && isatty(fileno(stream)) == 1; }

namespace {
Progress::Options on_stderr() {
    Progress::Options o;
    o.terminal = is_terminal(stderr);
    return o;
}
}  // namespace

Progress::Progress(std::string label) : Progress(std::move(label), on_stderr()) {}

Progress::Progress(std::string label, Options options) : label_(std::move(label)), options_(std::move(options)) {
    if (!options_.clock) options_.clock = steady_seconds;
    start_s_ = options_.clock();
}

Progress::~Progress() { abandon(); }

double Progress::elapsed_s() const { return options_.clock() - start_s_; }

void Progress::update(double fraction, std::string_view detail) {
    if (finished_) return;
    const double now = options_.clock();
    const double interval = options_.terminal ? options_.frame_interval_s : options_.line_interval_s;
    // A bar shows at once; a plain log writes its first line only after one interval, so short
    // work writes just the final line.
    const bool first_frame = options_.terminal && last_output_s_ < 0;
    const double since = now - (last_output_s_ < 0 ? start_s_ : last_output_s_);
    if (!first_frame && since < interval) return;
    last_output_s_ = now;
    emit(fraction, detail, false);
}

void Progress::finish(std::string_view detail) {
    if (finished_) return;
    emit(1.0, detail, true);
    finished_ = true;
    bar_open_ = false;
}

void Progress::abandon() {
    if (bar_open_) {
        std::fputc('\n', options_.out);
        std::fflush(options_.out);
    }
    bar_open_ = false;
    finished_ = true;
}

void Progress::emit(double fraction, std::string_view detail, bool final_line) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    const double seconds = elapsed_s();
    if (detail.size() > kDetailWidth) detail = detail.substr(0, utf8_complete_prefix(detail.substr(0, kDetailWidth)));
    std::string text;
    if (options_.terminal) {
        const int filled = static_cast<int>(fraction * kBarWidth + 0.5);
        // "\x1b[K" clears what a longer previous frame left to the right.
        text = fmt::format("\r{} [{:#<{}}{: <{}}] {:5.1f}% {:6.1f} s  {}\x1b[K", label_, "", filled, "",
                           kBarWidth - filled, 100.0 * fraction, seconds, detail);
        if (final_line) text += '\n';
        bar_open_ = !final_line;
    } else {
        text = fmt::format("{}: {:5.1f}% {:6.1f} s{}{}\n", label_, 100.0 * fraction, seconds, detail.empty() ? "" : "  ",
                           detail);
    }
    std::fputs(text.c_str(), options_.out);
    std::fflush(options_.out);
}

}  // namespace ember::cli
