// ember::OutputFile: a file is replaced only by a complete one, never a directory, device, FIFO
// or socket; an unfinished one leaves no temporary behind (destroyed, or removed by the signal
// path's remove_output_temporaries()).
#include "core/error.h"
#include "core/output_file.h"
#include "support/test_support.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace ember {
namespace {

namespace fs = std::filesystem;

// A fresh, empty folder per test.
fs::path scratch(const std::string& name) {
    const fs::path dir = fs::temp_directory_path() / ("ember-output-file-test-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string contents(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

using test::error_of;

// Names in `dir` that look like our temporaries.
size_t temporaries_in(const fs::path& dir) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().find(".tmp") != std::string::npos) ++n;
    }
    return n;
}

TEST(OutputFile, CommitReplacesTheFileWithTheWholeContents) {
    const fs::path dir = scratch("commit");
    const fs::path path = dir / "out.bin";
    std::ofstream(path) << "old contents";
    ::chmod(path.c_str(), 0640);
    {
        OutputFile out(path.string());
        out.write("new", 3);
        EXPECT_EQ(contents(path), "old contents");  // untouched until commit
        EXPECT_EQ(temporaries_in(dir), 1u);
        out.write(" data", 5);
        EXPECT_EQ(out.bytes_written(), 8u);
        out.commit();
    }
    EXPECT_EQ(contents(path), "new data");
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms(0640));
    EXPECT_EQ(temporaries_in(dir), 0u);
}

TEST(OutputFile, WithoutCommitNothingChangesAndNoTemporaryIsLeft) {
    const fs::path dir = scratch("abandon");
    const fs::path path = dir / "out.bin";
    std::ofstream(path) << "keep me";
    {
        OutputFile out(path.string());
        out.write("partial", 7);
    }  // an error unwinding through here
    EXPECT_EQ(contents(path), "keep me");
    EXPECT_EQ(temporaries_in(dir), 0u);
    {
        OutputFile fresh((dir / "new.bin").string());
        fresh.write("x", 1);
    }
    EXPECT_FALSE(fs::exists(dir / "new.bin"));
    EXPECT_EQ(temporaries_in(dir), 0u);
}

TEST(OutputFile, TheSignalPathRemovesLiveTemporaries) {
    const fs::path dir = scratch("signal");
    OutputFile a((dir / "a.bin").string());
    OutputFile b((dir / "b.bin").string());
    a.write("a", 1);
    EXPECT_EQ(temporaries_in(dir), 2u);
    remove_output_temporaries();  // what the CLI's SIGINT/SIGTERM handler calls
    EXPECT_EQ(temporaries_in(dir), 0u);
    // A committed file is not a temporary any more: a later signal leaves it alone.
    OutputFile c((dir / "c.bin").string());
    c.write("c", 1);
    c.commit();
    remove_output_temporaries();
    EXPECT_EQ(contents(dir / "c.bin"), "c");
}

TEST(OutputFile, RefusesWhatIsNotARegularFile) {
    const fs::path dir = scratch("refuse");
    fs::create_directories(dir / "folder");
    std::string err = error_of([&] { OutputFile out((dir / "folder").string()); });
    EXPECT_NE(err.find("folder: is a directory"), std::string::npos) << err;
    EXPECT_TRUE(fs::is_directory(dir / "folder"));

    ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
    err = error_of([&] { OutputFile out((dir / "fifo").string()); });
    EXPECT_NE(err.find("fifo: exists and is a FIFO, not a regular file: refusing to replace it"), std::string::npos)
        << err;
    EXPECT_TRUE(fs::is_fifo(dir / "fifo"));

    err = error_of([] { OutputFile out("/dev/null"); });
    EXPECT_NE(err.find("/dev/null: exists and is a character device"), std::string::npos) << err;
    EXPECT_TRUE(fs::is_character_file("/dev/null"));

    const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(sock, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string sock_path = (dir / "sock").string();
    ASSERT_LT(sock_path.size(), sizeof addr.sun_path);
    std::copy(sock_path.begin(), sock_path.end(), addr.sun_path);
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    err = error_of([&] { OutputFile out(sock_path); });
    EXPECT_NE(err.find("is a socket"), std::string::npos) << err;
    ::close(sock);
    EXPECT_EQ(temporaries_in(dir), 0u);

    err = error_of([] { OutputFile out(""); });
    EXPECT_NE(err.find("no output file name"), std::string::npos) << err;
    err = error_of([&] { OutputFile out((dir / "missing" / "x.bin").string()); });
    EXPECT_NE(err.find("cannot create"), std::string::npos) << err;
}

TEST(OutputFile, ASymbolicLinkIsFollowed) {
    const fs::path dir = scratch("symlink");
    std::ofstream(dir / "target.bin") << "old";
    fs::create_symlink("target.bin", dir / "link.bin");
    {
        OutputFile out((dir / "link.bin").string());
        out.write("new", 3);
        out.commit();
    }
    EXPECT_TRUE(fs::is_symlink(dir / "link.bin"));
    EXPECT_EQ(contents(dir / "target.bin"), "new");

    fs::create_symlink("nowhere.bin", dir / "dangling.bin");
    const std::string err = error_of([&] { OutputFile out((dir / "dangling.bin").string()); });
    EXPECT_NE(err.find("symbolic link to a file that does not exist"), std::string::npos) << err;
    EXPECT_TRUE(fs::is_symlink(dir / "dangling.bin"));
}

}  // namespace
}  // namespace ember
