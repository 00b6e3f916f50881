// The backend registry: backends by name -> devices -> backend instances and buffer types.
#include "core/backend.h"
#include "core/error.h"

#include <gtest/gtest.h>

namespace ember {
namespace {

TEST(Registry, CpuIsAlwaysThere) {
    const BackendReg& cpu = registry().get("cpu");
    ASSERT_GE(cpu.device_count(), 1u);
    const Device& dev = cpu.device(0);
    const DeviceInfo info = dev.info();
    EXPECT_EQ(info.kind, DeviceKind::Cpu);
    EXPECT_FALSE(info.name.empty());
    EXPECT_TRUE(dev.buffer_type().is_host());

    auto backend = dev.create_backend(BackendOptions{1});
    ASSERT_NE(backend, nullptr);
    EXPECT_EQ(backend->name(), "cpu");
    EXPECT_TRUE(backend->supports_buffer(HostBufferType::instance()));

    auto buffer = dev.buffer_type().allocate(1000);
    ASSERT_NE(buffer, nullptr);
    EXPECT_GE(buffer->size(), 1000u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->base()) % dev.buffer_type().alignment(), 0u);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
    try {
        registry().get("no-such-backend");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("no-such-backend"), std::string::npos);
        EXPECT_NE(msg.find("cpu"), std::string::npos);
    }
    EXPECT_EQ(registry().find("no-such-backend"), nullptr);
}

}  // namespace
}  // namespace ember
