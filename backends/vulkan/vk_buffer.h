// Device memory as ember Buffers. A DeviceBuffer owns one Allocation; its base() is a fake
// address, unique per buffer and never dereferenced, so that tensor data pointers
// (base + offset) keep working for the graph allocator and views. bind_range() turns a
// tensor back into the (VkBuffer, offset, range) a descriptor needs.
#pragma once

#include "backends/vulkan/vk_runtime.h"
#include "core/backend.h"

namespace ember::vulkan {

class DeviceBufferType final : public BufferType {
public:
    explicit DeviceBufferType(Context& ctx) : ctx_(ctx) {}
    std::string name() const override;
    std::unique_ptr<Buffer> allocate(size_t size) const override;
    size_t alignment() const override { return 256; }  // >= minStorageBufferOffsetAlignment everywhere
    bool is_host() const override { return false; }
    Context& context() const { return ctx_; }

private:
    Context& ctx_;
};

class DeviceBuffer final : public Buffer {
public:
    DeviceBuffer(const DeviceBufferType& type, size_t size);
    ~DeviceBuffer() override;

    void* base() override { return base_; }
    size_t size() const override { return allocation_.size; }
    const BufferType& type() const override { return type_; }
    void set(Tensor& t, const void* src, size_t offset, size_t size) override;
    void get(const Tensor& t, void* dst, size_t offset, size_t size) const override;
    void clear(uint8_t value) override;

    const Allocation& allocation() const { return allocation_; }
    // Byte offset of a data pointer inside this buffer.
    size_t offset_of(const void* data) const;

private:
    const DeviceBufferType& type_;
    Context& ctx_;
    Allocation allocation_;
    char* base_;
};

// The part of a device buffer a shader binding covers for tensor `t`: the descriptor range
// starts at an offset aligned for the device, and `rel` is where t's data starts inside it.
struct BindRange {
    VkBuffer buffer = VK_NULL_HANDLE;
    size_t offset = 0;
    size_t range = 0;
    uint32_t rel = 0;
};

// The device buffer holding t's storage, or nullptr when t lives elsewhere.
const DeviceBuffer* device_buffer_of(const Tensor& t);
// Throws when t does not live in a device buffer of ctx or spans more than a binding may.
BindRange bind_range(const Context& ctx, const Tensor& t);
// Bytes a binding of t spans (t's extent plus the alignment slack), for the support check.
size_t bind_extent(const Context& ctx, const Tensor& t);

}  // namespace ember::vulkan
