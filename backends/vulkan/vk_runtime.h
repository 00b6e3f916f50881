// The Vulkan runtime under the backend: the process-wide instance and its physical devices,
// and per device a Context (logical device, one compute queue, device memory, staging
// transfers, the shared pipeline layout and the lazily built pipeline cache).
//
// Device memory is addressed by tensors through a fake base address per DeviceBuffer (see
// vk_buffer.h); only this backend turns it back into (VkBuffer, offset).
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ember::vulkan {

// Throws ember::Error "vulkan: <what> failed: VK_ERROR_..." unless r is VK_SUCCESS.
void check(VkResult r, std::string_view what);
const char* result_name(VkResult r);

// What ember needs to know about a physical device.
struct DeviceCaps {
    std::string name;
    std::string driver;  // driver name and info, when the driver reports them
    VkPhysicalDeviceType type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
    uint32_t api_version = 0;
    size_t device_memory = 0;  // bytes of the largest device-local heap
    uint32_t subgroup_size = 0;
    bool fp16 = false;  // shaderFloat16
    bool int8 = false;  // shaderInt8
    uint32_t max_storage_range = 0;
    size_t storage_align = 16;  // minStorageBufferOffsetAlignment
    uint32_t max_groups_x = 65535;
    size_t max_allocation = 0;
};

// The process-wide instance, created on first use. When no driver or device is present
// devices() is empty and error() says why.
class Instance {
public:
    static Instance& get();
    VkInstance handle() const { return instance_; }
    const std::vector<VkPhysicalDevice>& devices() const { return devices_; }
    const std::string& error() const { return error_; }
    DeviceCaps caps(VkPhysicalDevice pd) const;

private:
    Instance();
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    std::vector<VkPhysicalDevice> devices_;
    std::string error_;
};

// A VkBuffer with its own memory; `mapped` is set when the memory is host-visible.
struct Allocation {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    void* mapped = nullptr;
    size_t size = 0;
};

// One logical device with one compute queue. Shared by every backend instance and buffer
// on that device; thread-safe (the queue, the transfer objects and the caches are locked).
class Context {
public:
    Context(VkPhysicalDevice pd, size_t index);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    VkDevice device() const { return device_; }
    const DeviceCaps& caps() const { return caps_; }
    size_t index() const { return index_; }
    uint32_t queue_family() const { return queue_family_; }

    // Device-local memory (host-visible too where the device shares host memory, as
    // lavapipe and integrated GPUs do). Throws naming the size and the device when the
    // memory cannot be had.
    Allocation allocate(size_t size);
    void release(Allocation& a);

    // Copies through mapped memory when there is some, else through a staging buffer.
    void upload(const Allocation& a, size_t offset, const void* src, size_t size);
    void download(const Allocation& a, size_t offset, void* dst, size_t size);
    void fill(const Allocation& a, uint8_t value);

    // Submits `cb` and waits for it to finish.
    void submit_and_wait(VkCommandBuffer cb, VkFence fence);

    // The compute pipeline of shader variant `name` (built on first use, then cached).
    VkPipeline pipeline(std::string_view name);
    VkPipelineLayout pipeline_layout() const { return pipeline_layout_; }
    VkDescriptorSetLayout set_layout() const { return set_layout_; }
    // A small buffer bound to the bindings an op does not use.
    VkBuffer dummy_buffer() const { return dummy_.buffer; }

private:
    Allocation create(size_t size, VkBufferUsageFlags usage, bool device_local);
    void transfer(const Allocation& a, size_t offset, void* host, size_t size, bool to_device);

    VkPhysicalDevice physical_;
    size_t index_;
    DeviceCaps caps_;
    VkPhysicalDeviceMemoryProperties memory_props_{};
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    uint32_t queue_family_ = 0;
    bool force_staging_ = false;  // EMBER_VULKAN_FORCE_STAGING=1: never map device memory

    std::mutex queue_mutex_;
    std::mutex transfer_mutex_;
    VkCommandPool transfer_pool_ = VK_NULL_HANDLE;
    VkCommandBuffer transfer_cb_ = VK_NULL_HANDLE;
    VkFence transfer_fence_ = VK_NULL_HANDLE;
    Allocation staging_;

    std::mutex pipeline_mutex_;
    VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
    VkPipelineLayout pipeline_layout_ = VK_NULL_HANDLE;
    std::map<std::string, VkPipeline, std::less<>> pipelines_;
    Allocation dummy_;
};

// The context of device `index` (created on first use, kept for the process's lifetime).
// Throws the "no Vulkan device" error when there is none.
Context& context(size_t index);
size_t device_count();

// The error given when Vulkan cannot be used: names the cause and the usual fix.
[[noreturn]] void fail_no_device();

}  // namespace ember::vulkan
