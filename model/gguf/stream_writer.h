// gguf::StreamWriter: writes a GGUF file tensor by tensor, through an OutputFile (quantize, synth).
#pragma once

#include "core/output_file.h"
#include "ember/gguf.h"

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace ember::gguf {

// Writes a GGUF file tensor by tensor, so that memory stays near one tensor's size:
//
//   gguf::Writer w;  w.add(...);  w.declare_tensor("a.weight", Type::Q8_0, ne);  ...
//   gguf::StreamWriter out(w, "model.gguf");
//   out.write_tensor(bytes_of_a);  ...             // in declaration order, exact sizes
//   out.finish();                                  // renames the finished file into place
//
// The bytes go to "PATH.tmpPID" until finish(), so no reader sees a half-written file; a
// StreamWriter destroyed before finish() (an exception) removes its temporary file.
class StreamWriter {
public:
    // Creates the output through an OutputFile (core/output_file.h): PATH must be a regular file
    // or not exist yet; it is replaced only by finish().
    StreamWriter(const Writer& writer, std::string path);
    StreamWriter(const StreamWriter&) = delete;
    StreamWriter& operator=(const StreamWriter&) = delete;

    // The next tensor's data; its size must be the declared tensor's byte size.
    void write_tensor(std::span<const uint8_t> data);
    // Checks that every tensor was written, closes and renames. Returns the file's size in bytes.
    uint64_t finish();

private:
    void pad_to_alignment();

    std::string path_;
    OutputFile out_;
    bool finished_ = false;
    size_t alignment_;
    std::vector<TensorInfo> tensors_;
    size_t next_ = 0;
};

}  // namespace ember::gguf
