// Internal to the CPU backend (and ember bench's int8 probe): the 64-byte AMX tile
// configuration that _tile_loadconfig reads (palette 1: per tile, rows and bytes per row).
#pragma once

#include <cstdint>

namespace ember::cpu {

struct alignas(64) TileConfig {
    uint8_t palette_id = 1;
    uint8_t start_row = 0;
    uint8_t reserved[14] = {};
    uint16_t colsb[16] = {};
    uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64, "AMX tile configuration is 64 bytes");

}  // namespace ember::cpu
