// ember::OutputFile: a file written through a temporary next to it and renamed into place by
// commit(), so a failed or interrupted write never leaves a half-written file under the name,
// and an existing file is replaced only by a complete one.
//
// The name must be a regular file or not exist yet: a directory, device, FIFO or socket is
// refused before anything is written (renaming over it would replace the directory entry, and
// /dev/null would become a regular file). A symbolic link to a regular file is followed: its
// target is replaced and keeps its permissions. The temporary is "<target>.tmp<pid>".
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace ember {

class OutputFile {
public:
    // Checks the name and creates the temporary; throws ember::Error naming the problem.
    explicit OutputFile(const std::string& path);
    // Removes the temporary unless commit() succeeded.
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    void write(const void* data, size_t n);
    // Closes the temporary and renames it onto the target.
    void commit();

    const std::string& path() const { return path_; }
    uint64_t bytes_written() const { return written_; }

private:
    void discard() noexcept;

    std::string path_;    // as given (for messages)
    std::string target_;  // what is replaced: path_, or the regular file its symlink names
    std::string tmp_;
    std::FILE* f_ = nullptr;
    int slot_ = -1;  // in the registry of temporaries that remove_output_temporaries() sees
    uint64_t written_ = 0;
};

// Removes the temporary of every OutputFile not yet committed or destroyed. Async-signal-safe:
// meant for a SIGINT/SIGTERM handler, which then ends the process (the CLI installs one).
void remove_output_temporaries() noexcept;

// "a directory", "a character device", "a FIFO", ... for a stat() st_mode.
const char* file_kind_name(unsigned mode);

}  // namespace ember
