// gguf::StreamWriter: a GGUF file written tensor by tensor through a temporary file.
#include "core/error.h"
#include "model/gguf/stream_writer.h"

#include <algorithm>

namespace ember::gguf {

StreamWriter::StreamWriter(const Writer& writer, std::string path)
    : path_(std::move(path)), out_(path_), alignment_(writer.alignment()), tensors_(writer.tensor_infos()) {
    const std::vector<uint8_t> header = writer.header_bytes();
    out_.write(header.data(), header.size());
}

void StreamWriter::pad_to_alignment() {
    static const uint8_t kZeros[256] = {};
    size_t n = (alignment_ - out_.bytes_written() % alignment_) % alignment_;
    while (n > 0) {
        const size_t k = std::min(n, sizeof kZeros);
        out_.write(kZeros, k);
        n -= k;
    }
}

void StreamWriter::write_tensor(std::span<const uint8_t> data) {
    if (finished_) fail("{}: the GGUF stream is already finished", path_);
    if (next_ >= tensors_.size()) fail("{}: more tensor data than the {} declared tensors", path_, tensors_.size());
    const TensorInfo& t = tensors_[next_];
    if (data.size() != t.nbytes) {
        fail("{}: tensor '{}' is {} bytes, but {} bytes were given", path_, t.name, t.nbytes, data.size());
    }
    out_.write(data.data(), data.size());
    pad_to_alignment();
    ++next_;
}

uint64_t StreamWriter::finish() {
    if (finished_) fail("{}: the GGUF stream is already finished", path_);
    if (next_ != tensors_.size()) {
        fail("{}: only {} of {} tensors were written", path_, next_, tensors_.size());
    }
    finished_ = true;
    out_.commit();
    return out_.bytes_written();
}

}  // namespace ember::gguf
