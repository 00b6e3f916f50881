#include "backends/vulkan/vulkan_backend.h"

#include "backends/vulkan/vk_buffer.h"
#include "backends/vulkan/vk_ops.h"
#include "backends/vulkan/vk_runtime.h"
#include "core/error.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace ember::vulkan {
namespace {

constexpr uint32_t kSetsPerPool = 512;

const char* device_type_name(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software)";
        default: return "other";
    }
}

class VulkanBackend final : public Backend {
public:
    VulkanBackend(Context& ctx, const DeviceBufferType& type) : ctx_(ctx), type_(type) {
        VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        pool.queueFamilyIndex = ctx.queue_family();
        check(vkCreateCommandPool(ctx.device(), &pool, nullptr, &pool_), "vkCreateCommandPool");
        VkCommandBufferAllocateInfo cb{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        cb.commandPool = pool_;
        cb.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        cb.commandBufferCount = 1;
        check(vkAllocateCommandBuffers(ctx.device(), &cb, &cb_), "vkAllocateCommandBuffers");
        VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        check(vkCreateFence(ctx.device(), &fence, nullptr, &fence_), "vkCreateFence");
    }
    ~VulkanBackend() override {
        for (VkDescriptorPool p : descriptor_pools_) vkDestroyDescriptorPool(ctx_.device(), p, nullptr);
        vkDestroyFence(ctx_.device(), fence_, nullptr);
        vkDestroyCommandPool(ctx_.device(), pool_, nullptr);
    }

    std::string name() const override { return "vulkan"; }
    const BufferType& buffer_type() const override { return type_; }

    // Op, types and shapes only: where the sources live is the scheduler's business (it keeps
    // nodes next to their weights and copies other sources into device memory first).
    bool supports_op(const Tensor& node) const override { return op_supported(node, ctx_.caps()); }

    void compute(std::span<Tensor* const> nodes) override;

private:
    VkDescriptorSet next_descriptor_set();

    Context& ctx_;
    const DeviceBufferType& type_;
    VkCommandPool pool_ = VK_NULL_HANDLE;
    VkCommandBuffer cb_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    std::vector<VkDescriptorPool> descriptor_pools_;  // reset at each compute(), grown as needed
    size_t pool_in_use_ = 0;
    uint32_t sets_in_pool_ = 0;
};

VkDescriptorSet VulkanBackend::next_descriptor_set() {
    if (sets_in_pool_ == kSetsPerPool) {
        ++pool_in_use_;
        sets_in_pool_ = 0;
    }
    if (pool_in_use_ == descriptor_pools_.size()) {
        VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4 * kSetsPerPool};
        VkDescriptorPoolCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        info.maxSets = kSetsPerPool;
        info.poolSizeCount = 1;
        info.pPoolSizes = &size;
        VkDescriptorPool pool = VK_NULL_HANDLE;
        check(vkCreateDescriptorPool(ctx_.device(), &info, nullptr, &pool), "vkCreateDescriptorPool");
        descriptor_pools_.push_back(pool);
    }
    VkDescriptorSetLayout layout = ctx_.set_layout();
    VkDescriptorSetAllocateInfo alloc{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    alloc.descriptorPool = descriptor_pools_[pool_in_use_];
    alloc.descriptorSetCount = 1;
    alloc.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    check(vkAllocateDescriptorSets(ctx_.device(), &alloc, &set), "vkAllocateDescriptorSets");
    ++sets_in_pool_;
    return set;
}

void VulkanBackend::compute(std::span<Tensor* const> nodes) {
    // Plan everything (and fail) before recording anything.
    std::vector<std::pair<Dispatch, std::array<BindRange, 4>>> work;
    for (Tensor* node : nodes) {
        if (node->op == Op::None || op_is_view(node->op)) continue;
        if (!supports_op(*node)) {
            fail("vulkan: unsupported node '{}': {} ({} of {})", node->name, op_name(node->op), type_name(node->type),
                 node->src[0] != nullptr ? type_name(node->src[0]->type) : "-");
        }
        Dispatch d = plan_dispatch(*node);
        std::array<BindRange, 4> ranges{};
        for (int i = 0; i < 4; ++i) {
            if (d.bind[i] == nullptr) {
                ranges[i].buffer = ctx_.dummy_buffer();
                ranges[i].range = 16;
                continue;
            }
            ranges[i] = bind_range(ctx_, *d.bind[i]);
            d.pc.off[i] = ranges[i].rel;
        }
        if (d.groups == 0) continue;  // empty tensors
        ctx_.pipeline(d.shader);      // build pipelines before recording
        work.emplace_back(std::move(d), ranges);
    }
    if (work.empty()) return;

    for (VkDescriptorPool p : descriptor_pools_) vkResetDescriptorPool(ctx_.device(), p, 0);
    pool_in_use_ = 0;
    sets_in_pool_ = 0;

    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cb_, &begin), "vkBeginCommandBuffer");
    const uint64_t max_x = ctx_.caps().max_groups_x;
    for (const auto& [d, ranges] : work) {
        VkDescriptorSet set = next_descriptor_set();
        VkDescriptorBufferInfo infos[4];
        VkWriteDescriptorSet writes[4];
        for (uint32_t i = 0; i < 4; ++i) {
            infos[i] = {ranges[i].buffer, ranges[i].offset, ranges[i].range};
            writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
            writes[i].dstSet = set;
            writes[i].dstBinding = i;
            writes[i].descriptorCount = 1;
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            writes[i].pBufferInfo = &infos[i];
        }
        vkUpdateDescriptorSets(ctx_.device(), 4, writes, 0, nullptr);
        vkCmdBindPipeline(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, ctx_.pipeline(d.shader));
        vkCmdBindDescriptorSets(cb_, VK_PIPELINE_BIND_POINT_COMPUTE, ctx_.pipeline_layout(), 0, 1, &set, 0, nullptr);
        vkCmdPushConstants(cb_, ctx_.pipeline_layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(PushConstants), &d.pc);
        // Large grids fold into a second dimension; shaders flatten them back (group_id()).
        const uint64_t x = std::min(d.groups, max_x);
        const uint64_t y = (d.groups + x - 1) / x;
        vkCmdDispatch(cb_, static_cast<uint32_t>(x), static_cast<uint32_t>(y), 1);
        // Every dispatch may read what the previous ones wrote.
        VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
        vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &barrier, 0, nullptr, 0, nullptr);
    }
    // Results become visible to host reads and transfers.
    VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;
    vkCmdPipelineBarrier(cb_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0, nullptr, 0,
                         nullptr);
    check(vkEndCommandBuffer(cb_), "vkEndCommandBuffer");
    ctx_.submit_and_wait(cb_, fence_);
}

// ---- device and registry ------------------------------------------------------------

class VulkanDevice final : public Device {
public:
    explicit VulkanDevice(size_t index) : index_(index) {}

    DeviceInfo info() const override {
        const DeviceCaps c = Instance::get().caps(Instance::get().devices()[index_]);
        DeviceInfo d;
        d.name = fmt::format("Vulkan{}", index_);
        d.description = c.name;
        d.kind = c.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? DeviceKind::Cpu : DeviceKind::Gpu;
        d.memory_total = c.device_memory;
        d.properties.push_back(device_type_name(c.type));
        d.properties.push_back(fmt::format("Vulkan {}.{}.{}", VK_API_VERSION_MAJOR(c.api_version),
                                           VK_API_VERSION_MINOR(c.api_version), VK_API_VERSION_PATCH(c.api_version)));
        d.properties.push_back(fmt::format("subgroup size {}", c.subgroup_size));
        d.properties.push_back(c.fp16 ? "fp16" : "no fp16");
        d.properties.push_back(c.int8 ? "int8" : "no int8");
        d.properties.push_back(fmt::format("max binding {} MiB", c.max_storage_range >> 20));
        if (!c.driver.empty()) d.properties.push_back(fmt::format("driver {}", c.driver));
        return d;
    }

    const BufferType& buffer_type() const override { return *state().type; }

    std::unique_ptr<Backend> create_backend(const BackendOptions&) const override {
        const State& s = state();
        return std::make_unique<VulkanBackend>(*s.ctx, *s.type);
    }

private:
    // The logical device is opened on first use (listing devices opens nothing).
    struct State {
        Context* ctx = nullptr;
        std::unique_ptr<DeviceBufferType> type;
    };
    const State& state() const {
        std::call_once(once_, [this] {
            state_.ctx = &context(index_);
            state_.type = std::make_unique<DeviceBufferType>(*state_.ctx);
        });
        return state_;
    }

    size_t index_;
    mutable std::once_flag once_;
    mutable State state_;
};

class VulkanBackendReg final : public BackendReg {
public:
    std::string name() const override { return "vulkan"; }
    size_t device_count() const override {
        enumerate();
        return devices_.size();
    }
    const Device& device(size_t index) const override {
        enumerate();
        if (devices_.empty()) fail_no_device();
        if (index >= devices_.size()) {
            fail("vulkan: no device {} (there {} {}; see `ember devices`)", index, devices_.size() == 1 ? "is" : "are",
                 devices_.size());
        }
        return *devices_[index];
    }

private:
    void enumerate() const {
        std::call_once(once_, [this] {
            for (size_t i = 0; i < vulkan::device_count(); ++i) devices_.push_back(std::make_unique<VulkanDevice>(i));
        });
    }
    mutable std::once_flag once_;
    mutable std::vector<std::unique_ptr<VulkanDevice>> devices_;
};

}  // namespace

std::unique_ptr<BackendReg> make_backend_reg() { return std::make_unique<VulkanBackendReg>(); }

}  // namespace ember::vulkan
