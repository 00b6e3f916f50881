// The backend interface: a registry of backends by name; each backend has devices;
// a device creates backend instances and owns buffer types. A backend says which
// ops it supports, computes runs of graph nodes, and moves tensor data in and out
// of its buffers. The CPU backend is always registered and is the fallback.
#pragma once

#include "core/tensor.h"
#include "ember/backends.h"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ember {

class BufferType;

// A block of backend memory. Tensor data pointers into it are `base() + offset`;
// for device memory base() is an opaque address that only the backend interprets.
class Buffer {
public:
    virtual ~Buffer() = default;
    virtual void* base() = 0;
    virtual size_t size() const = 0;
    virtual const BufferType& type() const = 0;
    // Copies bytes into / out of `t`'s data at byte `offset` (t.data lies inside this buffer).
    virtual void set(Tensor& t, const void* src, size_t offset, size_t size) = 0;
    virtual void get(const Tensor& t, void* dst, size_t offset, size_t size) const = 0;
    virtual void clear(uint8_t value) = 0;
};

class BufferType {
public:
    virtual ~BufferType() = default;
    virtual std::string name() const = 0;
    // Throws ember::Error when the memory cannot be had.
    virtual std::unique_ptr<Buffer> allocate(size_t size) const = 0;
    virtual size_t alignment() const = 0;
    // Host buffers are plain memory that any CPU code may read and write directly.
    virtual bool is_host() const = 0;
};

// A host-memory buffer, shared by every backend that computes on the CPU.
class HostBufferType final : public BufferType {
public:
    std::string name() const override { return "host"; }
    std::unique_ptr<Buffer> allocate(size_t size) const override;
    size_t alignment() const override { return 64; }
    bool is_host() const override { return true; }
    static const HostBufferType& instance();
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    // Where this backend keeps the activations it computes.
    virtual const BufferType& buffer_type() const = 0;
    // Whether compute() can run `node` (its op, types and shapes).
    virtual bool supports_op(const Tensor& node) const = 0;
    // Whether compute() can read tensors stored in buffers of `type` directly.
    virtual bool supports_buffer(const BufferType& type) const { return &type == &buffer_type(); }
    // Runs the nodes in order. Sources and results all live in buffers this backend supports.
    virtual void compute(std::span<Tensor* const> nodes) = 0;
    virtual void synchronize() {}

    // True when this backend can read t where it is now (plain host memory counts as a host buffer).
    bool can_read(const Tensor& t) const;
};

struct BackendOptions {
    int n_threads = 0;  // 0: the number of hardware threads
    // For backends that only pay off on large batches (BLAS): the smallest activation batch
    // (mul_mat src1 ne[1]) they take. 0: the backend's automatic, per-weight-type choice.
    int64_t min_batch = 0;
};

class Device {
public:
    virtual ~Device() = default;
    virtual DeviceInfo info() const = 0;
    virtual const BufferType& buffer_type() const = 0;
    virtual std::unique_ptr<Backend> create_backend(const BackendOptions& options) const = 0;
};

class BackendReg {
public:
    virtual ~BackendReg() = default;
    virtual std::string name() const = 0;
    virtual size_t device_count() const = 0;
    virtual const Device& device(size_t index) const = 0;
};

class Registry {
public:
    void add(std::unique_ptr<BackendReg> reg);  // throws on a duplicate name
    const BackendReg* find(std::string_view name) const;
    // Throws ember::Error listing the registered names when `name` is unknown.
    const BackendReg& get(std::string_view name) const;
    std::vector<const BackendReg*> all() const;

private:
    std::vector<std::unique_ptr<BackendReg>> regs_;
};

// The process-wide registry, holding every backend compiled into the library.
// (Defined by backends/, which knows which backends were built.)
Registry& registry();

}  // namespace ember
