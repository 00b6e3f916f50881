#include "tools/cli_io.h"

#include "core/error.h"
#include "core/output_file.h"
#include "model/gguf/mapped_file.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace ember::cli {

namespace {

int g_stdout_errno = 0;  // the first failed write's errno (0: none)

void note_stdout_error() {
    if (g_stdout_errno == 0) g_stdout_errno = errno != 0 ? errno : EIO;
}

void on_interrupt(int sig) {
    remove_output_temporaries();
    std::raise(sig);  // SA_RESETHAND restored the default action: it ends the process once we return
}

}  // namespace

std::string read_input_text(const std::string& path) {
    if (path != "-") return read_text_file(path);
    std::string text;
    char buf[1 << 16];
    for (;;) {
        const size_t n = std::fread(buf, 1, sizeof buf, stdin);
        text.append(buf, n);
        if (text.size() > kMaxStdinBytes) fail("standard input: more than {} MiB of text", kMaxStdinBytes >> 20);
        if (n < sizeof buf) break;
    }
    if (std::ferror(stdin)) fail("standard input: read failed: {}", std::strerror(errno));
    return text;
}

bool try_write_stdout(std::string_view text) noexcept {
    if (g_stdout_errno != 0) return false;
    errno = 0;
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
        note_stdout_error();
        return false;
    }
    return true;
}

void write_stdout(std::string_view text) {
    if (!try_write_stdout(text)) fail("writing output: {}", std::strerror(g_stdout_errno));
}

void finish_stdout() {
    errno = 0;
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) note_stdout_error();
    errno = 0;
    if (std::fclose(stdout) != 0 && errno != EBADF) note_stdout_error();  // EBADF: started closed, nothing written
    if (g_stdout_errno != 0) fail("writing output: {}", std::strerror(g_stdout_errno));
}

void install_interrupt_cleanup() {
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        // Keep an inherited "ignore" (nohup, a supervisor): the user asked for it.
        struct sigaction old {};
        if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sig, &sa, nullptr);
    }
}

}  // namespace ember::cli
