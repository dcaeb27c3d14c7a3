// The Janitza UMG "frequently required readings" float block (holding registers 19000..19121,
// float32 ABCD) as served by the simulator, and the request handler that answers reads of it.
// Thread-safety: stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/meter_physics.h"

namespace wattline::sim {

inline constexpr uint16_t kUmgFirstRegister = 19000;
inline constexpr uint16_t kUmgRegisterCount = 122;  // 61 floats: 19000..19120 plus its low word

// The register image of `state`: kUmgRegisterCount registers starting at 19000.
std::vector<uint16_t> UmgRegisterImage(const MeterState& state);

// Answers one request PDU against `image` (which starts at 19000): fc 03 reads inside the
// block get the registers; a read outside it gets exception 02; a malformed read (count 0 or
// above 125) exception 03; any other function code exception 01.
std::string AnswerUmgRequest(const std::vector<uint16_t>& image, std::string_view request_pdu);

}  // namespace wattline::sim
