// A read-only memory map of a whole file (RAII). The mapping lives as long as the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ember {

class MappedFile {
public:
    // Maps `path` read-only. Throws ember::Error ("PATH: cannot open: reason") on failure, and
    // ("PATH: not a regular file (a FIFO)") for anything but a regular file.
    // An empty file gives an empty span (nothing is mapped).
    static MappedFile open(const std::string& path);

    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    const std::string& path() const { return path_; }

private:
    void release() noexcept;

    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// The bytes of a regular file (a directory, device or FIFO is refused with a clear error: such a
// "text" could be endless or block forever).
std::string read_text_file(const std::string& path);

}  // namespace ember
