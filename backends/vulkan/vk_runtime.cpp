#include "backends/vulkan/vk_runtime.h"

#include "backends/vulkan/shaders.h"
#include "core/error.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ember::vulkan {
namespace {

constexpr size_t kStagingBytes = 64u << 20;  // transfers larger than this go in chunks
constexpr uint32_t kPushConstantBytes = 128;  // the minimum every device guarantees
constexpr uint32_t kBindings = 4;             // src0, src1, src2, dst

bool env_on(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
    const char* level = severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning";
    std::fprintf(stderr, "vulkan validation %s: %s\n", level, data->pMessage);
    return VK_FALSE;
}

int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
        case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
        default: return 4;
    }
}

bool has_extension(VkPhysicalDevice pd, const char* name) {
    uint32_t n = 0;
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
    std::vector<VkExtensionProperties> exts(n);
    vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, exts.data());
    for (const auto& e : exts) {
        if (std::strcmp(e.extensionName, name) == 0) return true;
    }
    return false;
}

}  // namespace

const char* result_name(VkResult r) {
    switch (r) {
        case VK_SUCCESS: return "VK_SUCCESS";
        case VK_NOT_READY: return "VK_NOT_READY";
        case VK_TIMEOUT: return "VK_TIMEOUT";
        case VK_INCOMPLETE: return "VK_INCOMPLETE";
        case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
        case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
        case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
        case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
        case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
        case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
        case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
        case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
        case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
        case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
        case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
        case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
        case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
        default: return "VK_ERROR_UNKNOWN";
    }
}

void check(VkResult r, std::string_view what) {
    if (r != VK_SUCCESS) fail("vulkan: {} failed: {}", what, result_name(r));
}

// ---- instance ----------------------------------------------------------------------

Instance& Instance::get() {
    static Instance* instance = new Instance();  // never destroyed, like the registry that uses it
    return *instance;
}

Instance::Instance() {
    const bool validation = env_on("EMBER_VULKAN_VALIDATION");
    std::vector<const char*> layers;
    std::vector<const char*> extensions;
    if (validation) {
        uint32_t n = 0;
        vkEnumerateInstanceLayerProperties(&n, nullptr);
        std::vector<VkLayerProperties> props(n);
        vkEnumerateInstanceLayerProperties(&n, props.data());
        const bool found = std::any_of(props.begin(), props.end(), [](const VkLayerProperties& p) {
            return std::strcmp(p.layerName, "VK_LAYER_KHRONOS_validation") == 0;
        });
        if (!found) {
            error_ = "EMBER_VULKAN_VALIDATION is set but the layer VK_LAYER_KHRONOS_validation is not installed "
                     "(Debian: apt-get install vulkan-validationlayers)";
            return;
        }
        layers.push_back("VK_LAYER_KHRONOS_validation");
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "ember";
    app.pEngineName = "ember";
    app.apiVersion = VK_API_VERSION_1_1;
    VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<uint32_t>(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    const VkResult r = vkCreateInstance(&info, nullptr, &instance_);
    if (r != VK_SUCCESS) {
        instance_ = VK_NULL_HANDLE;
        error_ = fmt::format("vkCreateInstance failed with {}{}", result_name(r),
                             r == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no Vulkan driver is installed)" : "");
        return;
    }
    if (validation) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
        if (create != nullptr) {
            VkDebugUtilsMessengerCreateInfoEXT m{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
            m.messageSeverity =
                VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
            m.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                            VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
            m.pfnUserCallback = on_validation_message;
            create(instance_, &m, nullptr, &messenger_);
        }
    }

    uint32_t n = 0;
    VkResult e = vkEnumeratePhysicalDevices(instance_, &n, nullptr);
    if (e != VK_SUCCESS) {
        error_ = fmt::format("vkEnumeratePhysicalDevices failed with {}", result_name(e));
        return;
    }
    std::vector<VkPhysicalDevice> all(n);
    vkEnumeratePhysicalDevices(instance_, &n, all.data());
    // Devices that can run Vulkan 1.1 compute; real GPUs first, software renderers last.
    for (VkPhysicalDevice pd : all) {
        VkPhysicalDeviceProperties props;
        vkGetPhysicalDeviceProperties(pd, &props);
        if (props.apiVersion < VK_API_VERSION_1_1) continue;
        uint32_t nq = 0;
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
        std::vector<VkQueueFamilyProperties> qs(nq);
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qs.data());
        if (std::none_of(qs.begin(), qs.end(), [](const auto& q) { return (q.queueFlags & VK_QUEUE_COMPUTE_BIT) != 0; })) {
            continue;
        }
        devices_.push_back(pd);
    }
    std::stable_sort(devices_.begin(), devices_.end(), [](VkPhysicalDevice a, VkPhysicalDevice b) {
        VkPhysicalDeviceProperties pa, pb;
        vkGetPhysicalDeviceProperties(a, &pa);
        vkGetPhysicalDeviceProperties(b, &pb);
        return type_rank(pa.deviceType) < type_rank(pb.deviceType);
    });
    if (devices_.empty()) {
        error_ = n == 0 ? "the Vulkan loader found no devices" : "no device supports Vulkan 1.1 compute";
    }
}

DeviceCaps Instance::caps(VkPhysicalDevice pd) const {
    DeviceCaps c;
    VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 props2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    props2.pNext = &subgroup;
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(pd, &basic);
    const bool has_driver_props = basic.apiVersion >= VK_API_VERSION_1_2 || has_extension(pd, "VK_KHR_driver_properties");
    if (has_driver_props) subgroup.pNext = &driver;
    vkGetPhysicalDeviceProperties2(pd, &props2);
    const VkPhysicalDeviceProperties& p = props2.properties;
    c.name = p.deviceName;
    if (has_driver_props) c.driver = fmt::format("{} {}", driver.driverName, driver.driverInfo);
    c.type = p.deviceType;
    c.api_version = p.apiVersion;
    c.subgroup_size = subgroup.subgroupSize;
    c.max_storage_range = p.limits.maxStorageBufferRange;
    c.storage_align = std::max<size_t>(4, p.limits.minStorageBufferOffsetAlignment);
    c.max_groups_x = p.limits.maxComputeWorkGroupCount[0];

    VkPhysicalDeviceMaintenance3Properties m3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p3.pNext = &m3;
    vkGetPhysicalDeviceProperties2(pd, &p3);
    c.max_allocation = m3.maxMemoryAllocationSize;

    if (p.apiVersion >= VK_API_VERSION_1_2 || has_extension(pd, "VK_KHR_shader_float16_int8")) {
        VkPhysicalDeviceShaderFloat16Int8Features f16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
        VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
        f2.pNext = &f16;
        vkGetPhysicalDeviceFeatures2(pd, &f2);
        c.fp16 = f16.shaderFloat16 == VK_TRUE;
        c.int8 = f16.shaderInt8 == VK_TRUE;
    }
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    for (uint32_t i = 0; i < mem.memoryHeapCount; ++i) {
        if ((mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0) {
            c.device_memory = std::max<size_t>(c.device_memory, mem.memoryHeaps[i].size);
        }
    }
    return c;
}

void fail_no_device() {
    fail("no Vulkan device found: is a Vulkan driver (e.g. mesa-vulkan-drivers) installed? ({})",
         Instance::get().error().empty() ? "no device" : Instance::get().error());
}

size_t device_count() { return Instance::get().devices().size(); }

Context& context(size_t index) {
    static std::mutex mutex;
    static auto* contexts = new std::map<size_t, std::unique_ptr<Context>>();  // lives as long as the registry
    const Instance& inst = Instance::get();
    if (inst.devices().empty()) fail_no_device();
    if (index >= inst.devices().size()) {
        fail("vulkan: no device {} (there {} {}; see `ember devices`)", index, inst.devices().size() == 1 ? "is" : "are",
             inst.devices().size());
    }
    std::lock_guard lock(mutex);
    auto& slot = (*contexts)[index];
    if (!slot) slot = std::make_unique<Context>(inst.devices()[index], index);
    return *slot;
}

// ---- context -------------------------------------------------------------------------

Context::Context(VkPhysicalDevice pd, size_t index) : physical_(pd), index_(index) {
    caps_ = Instance::get().caps(pd);
    force_staging_ = env_on("EMBER_VULKAN_FORCE_STAGING");
    vkGetPhysicalDeviceMemoryProperties(pd, &memory_props_);

    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qs(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qs.data());
    // Prefer a compute queue without graphics (a dedicated compute engine), else any compute queue.
    uint32_t family = UINT32_MAX;
    for (uint32_t i = 0; i < nq; ++i) {
        if ((qs[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qs[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) family = i;
    }
    for (uint32_t i = 0; i < nq && family == UINT32_MAX; ++i) {
        if (qs[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = i;
    }
    queue_family_ = family;

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo q{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    q.queueFamilyIndex = family;
    q.queueCount = 1;
    q.pQueuePriorities = &priority;
    VkDeviceCreateInfo info{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    info.queueCreateInfoCount = 1;
    info.pQueueCreateInfos = &q;
    const VkResult r = vkCreateDevice(pd, &info, nullptr, &device_);
    if (r != VK_SUCCESS) {
        fail("vulkan: cannot open device {} '{}': vkCreateDevice failed with {} (is its driver working?)", index,
             caps_.name, result_name(r));
    }
    vkGetDeviceQueue(device_, family, 0, &queue_);

    VkCommandPoolCreateInfo pool{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool.queueFamilyIndex = family;
    check(vkCreateCommandPool(device_, &pool, nullptr, &transfer_pool_), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo cb{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cb.commandPool = transfer_pool_;
    cb.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cb.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(device_, &cb, &transfer_cb_), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fence{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    check(vkCreateFence(device_, &fence, nullptr, &transfer_fence_), "vkCreateFence");

    // One layout for every shader: four storage buffers and 128 bytes of push constants.
    VkDescriptorSetLayoutBinding bindings[kBindings];
    for (uint32_t i = 0; i < kBindings; ++i) {
        bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    }
    VkDescriptorSetLayoutCreateInfo dsl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dsl.bindingCount = kBindings;
    dsl.pBindings = bindings;
    check(vkCreateDescriptorSetLayout(device_, &dsl, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");
    VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushConstantBytes};
    VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &set_layout_;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &range;
    check(vkCreatePipelineLayout(device_, &pl, nullptr, &pipeline_layout_), "vkCreatePipelineLayout");

    dummy_ = allocate(256);
}

Context::~Context() {
    vkDeviceWaitIdle(device_);
    for (auto& [name, p] : pipelines_) vkDestroyPipeline(device_, p, nullptr);
    release(dummy_);
    release(staging_);
    vkDestroyPipelineLayout(device_, pipeline_layout_, nullptr);
    vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
    vkDestroyFence(device_, transfer_fence_, nullptr);
    vkDestroyCommandPool(device_, transfer_pool_, nullptr);
    vkDestroyDevice(device_, nullptr);
}

Allocation Context::create(size_t size, VkBufferUsageFlags usage, bool device_local) {
    Allocation a;
    a.size = size;
    VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    info.size = std::max<size_t>(size, 16);
    info.usage = usage;
    info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(device_, &info, nullptr, &a.buffer), "vkCreateBuffer");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(device_, a.buffer, &req);

    // Device-local: prefer memory the host can also map (shared-memory devices), unless
    // staging is forced. Staging: host-visible and coherent.
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    std::vector<VkMemoryPropertyFlags> wanted;
    if (device_local) {
        if (!force_staging_) wanted.push_back(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | host);
        wanted.push_back(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    } else {
        wanted.push_back(host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        wanted.push_back(host);
    }
    uint32_t type = UINT32_MAX;
    for (VkMemoryPropertyFlags flags : wanted) {
        for (uint32_t i = 0; i < memory_props_.memoryTypeCount && type == UINT32_MAX; ++i) {
            if ((req.memoryTypeBits & (1u << i)) && (memory_props_.memoryTypes[i].propertyFlags & flags) == flags) type = i;
        }
        if (type != UINT32_MAX) break;
    }
    if (type == UINT32_MAX) {
        vkDestroyBuffer(device_, a.buffer, nullptr);
        fail("vulkan: device '{}' has no suitable memory type", caps_.name);
    }
    VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    alloc.allocationSize = req.size;
    alloc.memoryTypeIndex = type;
    const VkResult r = (caps_.max_allocation != 0 && req.size > caps_.max_allocation)
                           ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                           : vkAllocateMemory(device_, &alloc, nullptr, &a.memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(device_, a.buffer, nullptr);
        fail("vulkan: cannot allocate {:.1f} MiB on '{}' ({}; the device has {:.0f} MiB, at most {:.0f} MiB per "
             "allocation): use a smaller -ngl to keep more layers on the CPU",
             static_cast<double>(size) / (1 << 20), caps_.name, result_name(r),
             static_cast<double>(caps_.device_memory) / (1 << 20), static_cast<double>(caps_.max_allocation) / (1 << 20));
    }
    check(vkBindBufferMemory(device_, a.buffer, a.memory, 0), "vkBindBufferMemory");
    if ((memory_props_.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
        (!device_local || !force_staging_)) {
        check(vkMapMemory(device_, a.memory, 0, VK_WHOLE_SIZE, 0, &a.mapped), "vkMapMemory");
    }
    return a;
}

Allocation Context::allocate(size_t size) {
    return create(size,
                  VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                  /*device_local=*/true);
}

void Context::release(Allocation& a) {
    if (a.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, a.buffer, nullptr);
    if (a.memory != VK_NULL_HANDLE) vkFreeMemory(device_, a.memory, nullptr);
    a = Allocation{};
}

void Context::submit_and_wait(VkCommandBuffer cb, VkFence fence) {
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &cb;
    {
        std::lock_guard lock(queue_mutex_);
        check(vkQueueSubmit(queue_, 1, &submit, fence), "vkQueueSubmit");
    }
    check(vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    check(vkResetFences(device_, 1, &fence), "vkResetFences");
}

void Context::transfer(const Allocation& a, size_t offset, void* host, size_t size, bool to_device) {
    std::lock_guard lock(transfer_mutex_);
    if (staging_.buffer == VK_NULL_HANDLE) {
        staging_ = create(kStagingBytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, false);
    }
    auto* bytes = static_cast<char*>(host);
    for (size_t done = 0; done < size;) {
        const size_t n = std::min(kStagingBytes, size - done);
        if (to_device) std::memcpy(staging_.mapped, bytes + done, n);
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(vkBeginCommandBuffer(transfer_cb_, &begin), "vkBeginCommandBuffer");
        VkBufferCopy region{};
        region.size = n;
        if (to_device) {
            region.dstOffset = offset + done;
            vkCmdCopyBuffer(transfer_cb_, staging_.buffer, a.buffer, 1, &region);
        } else {
            region.srcOffset = offset + done;
            vkCmdCopyBuffer(transfer_cb_, a.buffer, staging_.buffer, 1, &region);
        }
        check(vkEndCommandBuffer(transfer_cb_), "vkEndCommandBuffer");
        submit_and_wait(transfer_cb_, transfer_fence_);
        if (!to_device) std::memcpy(bytes + done, staging_.mapped, n);
        done += n;
    }
}

void Context::upload(const Allocation& a, size_t offset, const void* src, size_t size) {
    if (size == 0) return;
    if (offset + size > a.size) fail("vulkan: upload of {} bytes at {} past a buffer of {}", size, offset, a.size);
    if (a.mapped != nullptr) {
        std::memcpy(static_cast<char*>(a.mapped) + offset, src, size);
        return;
    }
    transfer(a, offset, const_cast<void*>(src), size, true);
}

void Context::download(const Allocation& a, size_t offset, void* dst, size_t size) {
    if (size == 0) return;
    if (offset + size > a.size) fail("vulkan: download of {} bytes at {} past a buffer of {}", size, offset, a.size);
    if (a.mapped != nullptr) {
        std::memcpy(dst, static_cast<const char*>(a.mapped) + offset, size);
        return;
    }
    transfer(a, offset, dst, size, false);
}

void Context::fill(const Allocation& a, uint8_t value) {
    if (a.mapped != nullptr) {
        std::memset(a.mapped, value, a.size);
        return;
    }
    std::lock_guard lock(transfer_mutex_);
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(transfer_cb_, &begin), "vkBeginCommandBuffer");
    vkCmdFillBuffer(transfer_cb_, a.buffer, 0, VK_WHOLE_SIZE, value * 0x01010101u);
    check(vkEndCommandBuffer(transfer_cb_), "vkEndCommandBuffer");
    submit_and_wait(transfer_cb_, transfer_fence_);
}

VkPipeline Context::pipeline(std::string_view name) {
    std::lock_guard lock(pipeline_mutex_);
    if (auto it = pipelines_.find(name); it != pipelines_.end()) return it->second;
    const EmbeddedShader* shader = find_shader(name);
    if (shader == nullptr) fail("vulkan: no shader variant '{}' was built", name);
    VkShaderModuleCreateInfo sm{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    sm.codeSize = shader->size;
    sm.pCode = reinterpret_cast<const uint32_t*>(shader->bytes);
    VkShaderModule module = VK_NULL_HANDLE;
    check(vkCreateShaderModule(device_, &sm, nullptr, &module), fmt::format("vkCreateShaderModule({})", name));
    VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    info.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    info.stage.module = module;
    info.stage.pName = "main";
    info.layout = pipeline_layout_;
    VkPipeline p = VK_NULL_HANDLE;
    const VkResult r = vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &info, nullptr, &p);
    vkDestroyShaderModule(device_, module, nullptr);
    check(r, fmt::format("vkCreateComputePipelines({})", name));
    pipelines_.emplace(std::string(name), p);
    return p;
}

}  // namespace ember::vulkan
