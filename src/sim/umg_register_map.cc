#include "sim/umg_register_map.h"

#include <span>

#include "modbus/pdu.h"
#include "modbus/register_decode.h"

namespace wattline::sim {

std::vector<uint16_t> UmgRegisterImage(const MeterState& s) {
  std::vector<uint16_t> image(kUmgRegisterCount, 0);
  auto put = [&](uint16_t address, double value) {
    auto regs = modbus::EncodeFloat32(static_cast<float>(value), modbus::WordOrder::kABCD);
    size_t i = address - kUmgFirstRegister;
    image[i] = regs[0];
    image[i + 1] = regs[1];
  };
  for (int p = 0; p < 3; ++p) {
    put(19000 + 2 * p, s.voltage[p]);
    put(19006 + 2 * p, s.voltage_ll[p]);
    put(19012 + 2 * p, s.current[p]);
    put(19020 + 2 * p, s.active_power[p]);
    put(19028 + 2 * p, s.apparent_power[p]);
    put(19036 + 2 * p, s.reactive_power[p]);
    put(19044 + 2 * p, s.cos_phi[p]);
  }
  put(19018, s.current_sum());
  put(19026, s.active_power_total());
  put(19034, s.apparent_power_total());
  put(19042, s.reactive_power_total());
  put(19050, s.frequency);
  put(19052, 1);  // rotation field: right
  // Per-phase energies are not modelled separately: each phase gets a third.
  for (int p = 0; p < 3; ++p) {
    put(19054 + 2 * p, s.energy_total_wh() / 3);
    put(19062 + 2 * p, s.energy_import_wh / 3);
    put(19070 + 2 * p, s.energy_export_wh / 3);
  }
  put(19060, s.energy_total_wh());
  put(19068, s.energy_import_wh);
  put(19076, s.energy_export_wh);
  // Apparent and reactive energies: plausible fixed ratios of the real energy.
  double real = s.energy_import_wh + s.energy_export_wh;
  for (int p = 0; p < 4; ++p) {
    double share = p < 3 ? real / 3 : real;
    put(19078 + 2 * p, share * 1.08);  // VAh
    put(19086 + 2 * p, share * 0.35);  // varh
    put(19094 + 2 * p, share * 0.30);  // inductive
    put(19102 + 2 * p, share * 0.05);  // capacitive
  }
  for (int p = 0; p < 3; ++p) {
    put(19110 + 2 * p, 1.5 + 0.3 * p);  // THD U %
    put(19116 + 2 * p, 8.0 + 1.0 * p);  // THD I %
  }
  return image;
}

std::string AnswerUmgRequest(const std::vector<uint16_t>& image, std::string_view pdu) {
  using modbus::ExceptionCode;
  uint8_t function = pdu.empty() ? 0 : static_cast<uint8_t>(pdu[0]);
  if (function != modbus::kReadHoldingRegisters) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalFunction);
  }
  auto request = modbus::DecodeReadRequest(pdu);
  if (!request) return modbus::EncodeException(function, ExceptionCode::kIllegalDataValue);
  uint32_t first = request->address;
  uint32_t end = first + request->count;
  if (first < kUmgFirstRegister || end > uint32_t{kUmgFirstRegister} + image.size()) {
    return modbus::EncodeException(function, ExceptionCode::kIllegalDataAddress);
  }
  return modbus::EncodeReadResponse(
      function, std::span(image).subspan(first - kUmgFirstRegister, request->count));
}

}  // namespace wattline::sim
