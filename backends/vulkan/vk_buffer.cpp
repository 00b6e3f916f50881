#include "backends/vulkan/vk_buffer.h"

#include "core/error.h"

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace ember::vulkan {
namespace {

// Fake base addresses: 1 TiB apart, well above user-space mappings of real memory on the
// platforms we run on, and never dereferenced.
char* next_fake_base() {
    static std::atomic<uint64_t> next{0};
    const uint64_t id = next.fetch_add(1);
    return reinterpret_cast<char*>((uint64_t{1} << 46) + (id % 16384) * (uint64_t{1} << 40));
}

}  // namespace

std::string DeviceBufferType::name() const { return fmt::format("vulkan{}", ctx_.index()); }

std::unique_ptr<Buffer> DeviceBufferType::allocate(size_t size) const { return std::make_unique<DeviceBuffer>(*this, size); }

DeviceBuffer::DeviceBuffer(const DeviceBufferType& type, size_t size)
    : type_(type), ctx_(type.context()), base_(next_fake_base()) {
    // Rounded up to whole words: shaders read and write 32-bit words.
    allocation_ = ctx_.allocate((std::max<size_t>(size, 1) + 15) / 16 * 16);
}

DeviceBuffer::~DeviceBuffer() { ctx_.release(allocation_); }

size_t DeviceBuffer::offset_of(const void* data) const {
    const auto p = reinterpret_cast<uintptr_t>(data);
    const auto b = reinterpret_cast<uintptr_t>(base_);
    if (p < b || p > b + allocation_.size) fail("vulkan: a tensor's data pointer is outside its device buffer");
    return p - b;
}

void DeviceBuffer::set(Tensor& t, const void* src, size_t offset, size_t size) {
    ctx_.upload(allocation_, offset_of(t.data) + offset, src, size);
}

void DeviceBuffer::get(const Tensor& t, void* dst, size_t offset, size_t size) const {
    ctx_.download(allocation_, offset_of(t.data) + offset, dst, size);
}

void DeviceBuffer::clear(uint8_t value) { ctx_.fill(allocation_, value); }

const DeviceBuffer* device_buffer_of(const Tensor& t) {
    const Tensor* owner = t.view_src != nullptr ? t.view_src : &t;
    const Buffer* b = t.buffer != nullptr ? t.buffer : owner->buffer;
    return dynamic_cast<const DeviceBuffer*>(b);
}

size_t bind_extent(const Context& ctx, const Tensor& t) {
    const DeviceBuffer* buf = device_buffer_of(t);
    if (buf == nullptr || t.data == nullptr) return t.nbytes() + ctx.caps().storage_align;
    const size_t off = buf->offset_of(t.data);
    return off % ctx.caps().storage_align + t.nbytes();
}

BindRange bind_range(const Context& ctx, const Tensor& t) {
    const DeviceBuffer* buf = device_buffer_of(t);
    if (buf == nullptr || &static_cast<const DeviceBufferType&>(buf->type()).context() != &ctx) {
        fail("vulkan: tensor '{}' is not in this device's memory", t.name);
    }
    if (t.data == nullptr) fail("vulkan: tensor '{}' has no memory", t.name);
    const size_t off = buf->offset_of(t.data);
    BindRange r;
    r.buffer = buf->allocation().buffer;
    r.offset = off / ctx.caps().storage_align * ctx.caps().storage_align;
    r.rel = static_cast<uint32_t>(off - r.offset);
    // Whole words, within the buffer.
    r.range = std::min((r.rel + t.nbytes() + 3) / 4 * 4, buf->allocation().size - r.offset);
    if (r.range == 0) r.range = std::min<size_t>(4, buf->allocation().size - r.offset);
    if (r.range > ctx.caps().max_storage_range) {
        fail("vulkan: tensor '{}' spans {} bytes, more than one binding may cover ({})", t.name, r.range,
             ctx.caps().max_storage_range);
    }
    return r;
}

}  // namespace ember::vulkan
