// StopStrings: nothing of a stop string reaches the client, whatever the piece boundaries.
#include "server/stop_strings.h"

#include <gtest/gtest.h>

namespace ember::server {
namespace {

// Feeds `text` in pieces of `n` bytes; returns what was released and whether it matched.
std::pair<std::string, bool> feed(const std::vector<std::string>& stops, const std::string& text, size_t n) {
    StopStrings s(stops);
    std::string out;
    for (size_t i = 0; i < text.size(); i += n) {
        StopStrings::Out o = s.push(text.substr(i, n));
        out += o.text;
        if (o.matched) return {out, true};
    }
    return {out + s.flush(), false};
}

TEST(StopStrings, ReleasesTheTextBeforeTheFirstMatchInAnyPieces) {
    for (size_t n = 1; n <= 12; ++n) {
        SCOPED_TRACE(n);
        EXPECT_EQ(feed({"\nUser:"}, "Hello.\nUser: more", n), std::make_pair(std::string("Hello."), true));
        // The earliest of several stop strings wins.
        EXPECT_EQ(feed({"END", "lo"}, "Hello END", n), std::make_pair(std::string("Hel"), true));
        // A near miss is released in full once it stops matching.
        EXPECT_EQ(feed({"\nUser:"}, "A\nUse it\nUs", n), std::make_pair(std::string("A\nUse it\nUs"), false));
    }
}

TEST(StopStrings, HoldsBackOnlyWhatCouldStartAStop) {
    StopStrings s({"<end>"});
    EXPECT_EQ(s.push("abc<e").text, "abc");
    EXPECT_EQ(s.push("x").text, "<ex");
    EXPECT_EQ(s.push("<").text, "");
    StopStrings::Out o = s.push("end>tail");
    EXPECT_TRUE(o.matched);
    EXPECT_EQ(o.text, "");
}

TEST(StopStrings, NoStopsPassEverythingAndEmptyStopsAreIgnored) {
    StopStrings none({});
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.push("a<b").text, "a<b");
    StopStrings empty({""});
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(feed({""}, "text", 2), std::make_pair(std::string("text"), false));
}

TEST(StopStrings, MultiByteCharactersAreNotSplit) {
    // "é" is 2 bytes; a stop that begins with it is held back whole, and released whole.
    EXPECT_EQ(feed({"é!"}, "café au lait", 1), std::make_pair(std::string("café au lait"), false));
    EXPECT_EQ(feed({"é!"}, "café! x", 1), std::make_pair(std::string("caf"), true));
}

}  // namespace
}  // namespace ember::server
