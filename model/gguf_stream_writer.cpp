// gguf::StreamWriter: a GGUF file written tensor by tensor through a temporary file.
#include "core/error.h"
#include "model/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace ember::gguf {

StreamWriter::StreamWriter(const Writer& writer, std::string path)
    : path_(std::move(path)),
      tmp_(fmt::format("{}.tmp{}", path_, static_cast<long>(::getpid()))),
      alignment_(writer.alignment()),
      tensors_(writer.tensor_infos()) {
    const std::vector<uint8_t> header = writer.header_bytes();
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (f_ == nullptr) fail("{}: cannot create: {}", tmp_, std::strerror(errno));
    write_bytes(header.data(), header.size());
}

StreamWriter::~StreamWriter() {
    if (f_ == nullptr) return;  // finished
    std::fclose(f_);
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
}

void StreamWriter::write_bytes(const void* p, size_t n) {
    if (n > 0 && std::fwrite(p, 1, n, f_) != n) fail("{}: write failed: {}", tmp_, std::strerror(errno));
    written_ += n;
}

void StreamWriter::pad_to_alignment() {
    static const uint8_t kZeros[256] = {};
    size_t n = (alignment_ - written_ % alignment_) % alignment_;
    while (n > 0) {
        const size_t k = std::min(n, sizeof kZeros);
        write_bytes(kZeros, k);
        n -= k;
    }
}

void StreamWriter::write_tensor(std::span<const uint8_t> data) {
    if (f_ == nullptr) fail("{}: the GGUF stream is already finished", path_);
    if (next_ >= tensors_.size()) fail("{}: more tensor data than the {} declared tensors", path_, tensors_.size());
    const TensorInfo& t = tensors_[next_];
    if (data.size() != t.nbytes) {
        fail("{}: tensor '{}' is {} bytes, but {} bytes were given", path_, t.name, t.nbytes, data.size());
    }
    write_bytes(data.data(), data.size());
    pad_to_alignment();
    ++next_;
}

uint64_t StreamWriter::finish() {
    if (f_ == nullptr) fail("{}: the GGUF stream is already finished", path_);
    if (next_ != tensors_.size()) {
        fail("{}: only {} of {} tensors were written", path_, next_, tensors_.size());
    }
    std::FILE* f = f_;
    f_ = nullptr;
    if (std::fclose(f) != 0) {
        std::error_code ec;
        std::filesystem::remove(tmp_, ec);
        fail("{}: write failed: {}", tmp_, std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) {
        std::filesystem::remove(tmp_, ec);
        fail("{}: cannot rename {} into place: {}", path_, tmp_, ec.message());
    }
    return written_;
}

}  // namespace ember::gguf
