#include "core/backend.h"

#include "core/error.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace ember {
namespace {

class HostBuffer final : public Buffer {
public:
    HostBuffer(const HostBufferType& type, size_t size) : type_(type), size_(size) {
        const size_t alloc = (size + type.alignment() - 1) / type.alignment() * type.alignment();
        data_ = static_cast<std::byte*>(std::aligned_alloc(type.alignment(), alloc == 0 ? type.alignment() : alloc));
        if (data_ == nullptr) fail("out of host memory: cannot allocate {} bytes", size);
    }
    ~HostBuffer() override { std::free(data_); }

    void* base() override { return data_; }
    size_t size() const override { return size_; }
    const BufferType& type() const override { return type_; }
    void set(Tensor& t, const void* src, size_t offset, size_t size) override {
        std::memcpy(static_cast<char*>(t.data) + offset, src, size);
    }
    void get(const Tensor& t, void* dst, size_t offset, size_t size) const override {
        std::memcpy(dst, static_cast<const char*>(t.data) + offset, size);
    }
    void clear(uint8_t value) override { std::memset(data_, value, size_); }

private:
    const HostBufferType& type_;
    size_t size_;
    std::byte* data_ = nullptr;
};

}  // namespace

std::unique_ptr<Buffer> HostBufferType::allocate(size_t size) const { return std::make_unique<HostBuffer>(*this, size); }

const HostBufferType& HostBufferType::instance() {
    static const HostBufferType type;
    return type;
}

bool Backend::can_read(const Tensor& t) const {
    const Tensor* owner = t.view_src != nullptr ? t.view_src : &t;
    const Buffer* buf = t.buffer != nullptr ? t.buffer : owner->buffer;
    if (buf == nullptr) return supports_buffer(HostBufferType::instance());
    return supports_buffer(buf->type());
}

std::vector<BackendDevices> list_backends() {
    std::vector<BackendDevices> out;
    for (const BackendReg* reg : registry().all()) {
        BackendDevices& b = out.emplace_back();
        b.backend = reg->name();
        try {
            const size_t n = reg->device_count();
            if (n == 0) reg->device(0);  // throws the backend's reason for having none
            for (size_t i = 0; i < n; ++i) b.devices.push_back(reg->device(i).info());
        } catch (const Error& e) {
            b.devices.clear();
            b.unavailable = e.what();
        }
    }
    return out;
}

const char* device_kind_name(DeviceKind kind) {
    switch (kind) {
        case DeviceKind::Cpu: return "CPU";
        case DeviceKind::Gpu: return "GPU";
        case DeviceKind::Accelerator: return "accelerator";
    }
    return "?";
}

void Registry::add(std::unique_ptr<BackendReg> reg) {
    if (find(reg->name()) != nullptr) fail("backend '{}' is registered twice", reg->name());
    regs_.push_back(std::move(reg));
}

const BackendReg* Registry::find(std::string_view name) const {
    for (const auto& r : regs_) {
        if (r->name() == name) return r.get();
    }
    return nullptr;
}

const BackendReg& Registry::get(std::string_view name) const {
    if (const BackendReg* r = find(name)) return *r;
    std::string known;
    for (const auto& r : regs_) known += (known.empty() ? "" : ", ") + r->name();
    fail("unknown backend '{}' (available: {})", name, known);
}

std::vector<const BackendReg*> Registry::all() const {
    std::vector<const BackendReg*> out;
    for (const auto& r : regs_) out.push_back(r.get());
    return out;
}

}  // namespace ember
