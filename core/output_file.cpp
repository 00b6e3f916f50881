#include "core/output_file.h"

#include "core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace ember {

namespace {

// The temporaries a signal handler must remove. Paths live in fixed buffers that are never
// freed, so a handler running on another thread at any moment reads a valid string; a slot is
// Live only between its path being complete and the file being committed or removed.
enum SlotState : int { kFree, kFilling, kLive };
constexpr int kSlots = 16;
std::array<std::atomic<int>, kSlots> g_slot_state{};
std::array<std::array<char, PATH_MAX>, kSlots> g_slot_path{};

int register_temporary(const std::string& tmp) {
    if (tmp.size() >= PATH_MAX) return -1;
    for (int i = 0; i < kSlots; ++i) {
        int expected = kFree;
        if (g_slot_state[i].compare_exchange_strong(expected, kFilling)) {
            std::memcpy(g_slot_path[i].data(), tmp.c_str(), tmp.size() + 1);
            g_slot_state[i].store(kLive);
            return i;
        }
    }
    return -1;  // more than kSlots files at once: this one is not removed on a signal
}

void unregister_temporary(int slot) {
    if (slot >= 0) g_slot_state[slot].store(kFree);
}

}  // namespace

const char* file_kind_name(unsigned mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISREG(mode)) return "a regular file";
    return "not a regular file";
}

void remove_output_temporaries() noexcept {
    for (int i = 0; i < kSlots; ++i) {
        if (g_slot_state[i].load() == kLive) ::unlink(g_slot_path[i].data());
    }
}

OutputFile::OutputFile(const std::string& path) : path_(path), target_(path) {
    if (path.empty()) fail("no output file name given");
    mode_t mode = 0666;  // before the umask, as for any new file
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) fail("{}: is a directory", path);
        if (!S_ISREG(st.st_mode)) {
            fail("{}: exists and is {}, not a regular file: refusing to replace it", path, file_kind_name(st.st_mode));
        }
        mode = st.st_mode & 07777;
        struct stat lst {};
        if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
            char* real = ::realpath(path.c_str(), nullptr);
            if (real == nullptr) fail("{}: cannot resolve the symbolic link: {}", path, std::strerror(errno));
            target_ = real;
            std::free(real);
        }
    } else if (errno != ENOENT) {
        fail("{}: cannot write: {}", path, std::strerror(errno));
    } else {
        struct stat lst {};
        if (::lstat(path.c_str(), &lst) == 0) fail("{}: is a symbolic link to a file that does not exist", path);
    }

    tmp_ = target_ + ".tmp" + std::to_string(static_cast<long>(::getpid()));
    int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {  // left by an earlier process that had our pid
        ::unlink(tmp_.c_str());
        fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    }
    if (fd < 0) fail("{}: cannot create {}: {}", path, tmp_, std::strerror(errno));
    if (mode != 0666) (void)::fchmod(fd, mode);  // the replaced file's permissions
    f_ = ::fdopen(fd, "wb");
    if (f_ == nullptr) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp_.c_str());
        fail("{}: cannot open {}: {}", path, tmp_, std::strerror(err));
    }
    slot_ = register_temporary(tmp_);
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::discard() noexcept {
    if (f_ == nullptr) return;
    std::fclose(f_);
    f_ = nullptr;
    ::unlink(tmp_.c_str());
    unregister_temporary(slot_);
    slot_ = -1;
}

void OutputFile::write(const void* data, size_t n) {
    if (f_ == nullptr) fail("{}: the file is already closed", path_);
    if (n > 0 && std::fwrite(data, 1, n, f_) != n) {
        const int err = errno;
        discard();
        fail("{}: write failed: {}", tmp_, std::strerror(err));
    }
    written_ += n;
}

void OutputFile::commit() {
    if (f_ == nullptr) fail("{}: the file is already closed", path_);
    std::FILE* f = f_;
    f_ = nullptr;
    if (std::fclose(f) != 0) {
        const int err = errno;
        ::unlink(tmp_.c_str());
        unregister_temporary(slot_);
        slot_ = -1;
        fail("{}: write failed: {}", tmp_, std::strerror(err));
    }
    const int renamed = std::rename(tmp_.c_str(), target_.c_str());
    const int err = errno;
    if (renamed != 0) ::unlink(tmp_.c_str());
    unregister_temporary(slot_);
    slot_ = -1;
    if (renamed != 0) fail("{}: cannot rename {} into place: {}", path_, tmp_, std::strerror(err));
}

}  // namespace ember
