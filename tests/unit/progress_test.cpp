// tools/progress.h: a bar redrawn in place on a terminal (at most one frame per interval), plain
// lines every few seconds elsewhere, never a '\r' in a log. The clock is injected.
#include "tools/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using ember::cli::Progress;

// A FILE* writing to memory; text() is what was written so far.
class MemoryStream {
public:
    MemoryStream() : file_(open_memstream(&buffer_, &size_)) {}
    ~MemoryStream() {
        std::fclose(file_);
        std::free(buffer_);
    }
    std::FILE* file() { return file_; }
    std::string text() {
        std::fflush(file_);
        return {buffer_, size_};
    }

private:
    char* buffer_ = nullptr;
    size_t size_ = 0;
    std::FILE* file_;
};

Progress::Options options(std::FILE* out, bool terminal, const double& now) {
    Progress::Options o;
    o.out = out;
    o.terminal = terminal;
    o.clock = [&now] { return now; };
    return o;
}

size_t count(const std::string& s, char c) { return static_cast<size_t>(std::count(s.begin(), s.end(), c)); }

TEST(Progress, PlainLogWritesALineEveryIntervalAndAFinalLineWithoutCarriageReturns) {
    MemoryStream out;
    double now = 100.0;
    {
        Progress p("synth", options(out.file(), false, now));
        for (int i = 1; i <= 160; ++i) {  // 160 updates over 20 s (exact binary steps): a line per 5 s
            now = 100.0 + 0.125 * i;
            p.update(i / 160.0, "blk." + std::to_string(i));
        }
        p.finish("160 tensors");
    }
    const std::string text = out.text();
    EXPECT_EQ(count(text, '\r'), 0u) << text;
    EXPECT_EQ(count(text, '\n'), 5u) << text;  // at 5, 10, 15, 20 s, and the final line
    EXPECT_NE(text.find("synth:  25.0%    5.0 s  blk.40\n"), std::string::npos) << text;
    EXPECT_NE(text.find("synth: 100.0%   20.0 s  160 tensors\n"), std::string::npos) << text;
}

TEST(Progress, ShortPlainWorkWritesOnlyTheFinalLine) {
    MemoryStream out;
    double now = 0.0;
    Progress p("quantize", options(out.file(), false, now));
    for (int i = 1; i <= 10; ++i) {
        now = 0.25 * i;
        p.update(i / 10.0, "t");
    }
    p.finish();
    EXPECT_EQ(out.text(), "quantize: 100.0%    2.5 s\n");
}

TEST(Progress, TerminalBarIsRedrawnAtMostTenTimesASecondAndEndsItsLine) {
    MemoryStream out;
    double now = 0.0;
    Progress p("synth", options(out.file(), true, now));
    for (int i = 1; i <= 128; ++i) {  // 128 updates in 1 s
        now = i / 128.0;
        p.update(i / 128.0, "x");
    }
    p.finish("done");
    const std::string text = out.text();
    const size_t frames = count(text, '\r');
    EXPECT_GE(frames, 10u);
    EXPECT_LE(frames, 12u);  // the first frame, one per 0.1 s, the final one
    EXPECT_EQ(count(text, '\n'), 1u);
    EXPECT_EQ(text.back(), '\n');
    EXPECT_NE(text.find("\rsynth [##############################] 100.0%    1.0 s  done"), std::string::npos) << text;
}

TEST(Progress, AbandonEndsAnOpenBarLineSoAnErrorStartsALine) {
    MemoryStream out;
    double now = 0.0;
    Progress p("quantize", options(out.file(), true, now));
    p.update(0.5, "half");
    p.abandon();
    const std::string text = out.text();
    EXPECT_EQ(text.front(), '\r');
    EXPECT_EQ(text.back(), '\n');
    p.update(0.9, "after");  // nothing more once abandoned
    EXPECT_EQ(out.text(), text);
}

TEST(Progress, LongDetailIsCutAtAWholeUtf8Character) {
    MemoryStream out;
    double now = 0.0;
    Progress p("x", options(out.file(), false, now));
    const std::string detail = std::string(31, 'a') + "\xc3\xa9" + "bbb";  // é straddles the 32-byte cut
    p.finish(detail);
    EXPECT_EQ(out.text(), "x: 100.0%    0.0 s  " + std::string(31, 'a') + "\n");
}

}  // namespace
