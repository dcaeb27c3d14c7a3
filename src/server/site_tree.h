// SiteTree: a tenant's site tree (docs/api.md "Site tree"): nodes of kinds site, building,
// distribution board, cost centre, meter and virtual meter, freely nested, except that meters
// and virtual meters are leaves. A meter node links a device of the catalog (a connector's
// meter) or is a manual meter whose readings people enter; a virtual meter is a signed sum of
// other nodes. The class computes consumption per calendar interval from the historian.
//
// Summation rule: a meter's consumption is the consumption of its energy signal (the device's
// first counter in kWh or Wh, by signal id). A virtual meter's is the sum of sign x consumption
// of its members, whatever their kind. Any other node's is the sum over the meters (real and
// manual) anywhere below it; virtual meters below a node are shown but never summed into it,
// since they only recombine meters that are counted already.
//
// Thread-safety: not thread-safe; the server uses it from its single I/O thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "historian/engine.h"
#include "server/catalog.h"

namespace wattline::server {

enum class NodeKind { kSite, kBuilding, kDistributionBoard, kCostCentre, kMeter, kVirtualMeter };

// "site", "building", "distribution_board", "cost_centre", "meter", "virtual_meter".
std::string_view NodeKindName(NodeKind kind);
// The inverse; kInvalidArgument naming the valid kinds.
Result<NodeKind> ParseNodeKind(std::string_view name);
// Meters and virtual meters hold no nodes.
inline bool IsLeafKind(NodeKind k) { return k == NodeKind::kMeter || k == NodeKind::kVirtualMeter; }

// The energy signal of a device's signals: the first (by order given) counter in kWh or Wh.
std::optional<SignalInfo> PickEnergySignal(const std::vector<SignalInfo>& signals);

struct VirtualTerm {
  int64_t member_id = 0;
  int sign = 1;  // +1 or -1
};

struct TreeNode {
  int64_t id = 0;
  std::optional<int64_t> parent_id;  // nullopt for a root
  NodeKind kind = NodeKind::kSite;
  std::string name;
  int64_t position = 0;              // order among siblings (then id)
  std::optional<int64_t> device_id;  // meters: the linked device (a manual meter's own)
  bool manual = false;               // a meter without a connector
  std::vector<VirtualTerm> terms;    // virtual meters
};

// POST /tree/nodes. A meter needs exactly one of device_id and manual.
struct NodeInput {
  std::optional<int64_t> parent_id;
  NodeKind kind = NodeKind::kSite;
  std::string name;
  std::optional<int64_t> position;  // default: after the last sibling
  std::optional<int64_t> device_id;
  bool manual = false;
  std::vector<VirtualTerm> terms;
};

// PUT /tree/nodes/{id}: only what is set changes.
struct NodeChange {
  std::optional<std::string> name;
  bool move = false;  // parent_id below applies (nullopt: to the root)
  std::optional<int64_t> parent_id;
  std::optional<int64_t> position;
  std::optional<int64_t> device_id;  // relink a (non-manual) meter
  std::optional<std::vector<VirtualTerm>> terms;
};

struct Reading {
  int64_t ts_ms = 0;
  double value = 0;
  Quality quality = Quality::kManual;
};

// One contribution to a node's consumption.
struct ConsumptionMember {
  int64_t node_id = 0;
  std::string name;
  NodeKind kind = NodeKind::kMeter;
  int sign = 1;
  double total_kwh = 0;
};

struct Consumption {
  int64_t node_id = 0;
  std::optional<SignalInfo> signal;                // meters: the energy signal used
  std::vector<std::pair<int64_t, double>> points;  // interval start ms, kWh; ascending
  double total_kwh = 0;
  std::vector<ConsumptionMember> members;  // virtual meters: terms; other nodes: the meters summed
};

class SiteTree {
 public:
  static constexpr size_t kMaxNameLength = 100;
  static constexpr size_t kMaxNodes = 10000;  // per tenant
  static constexpr size_t kMaxTerms = 100;

  SiteTree(Catalog& catalog, historian::Engine& store, TimeSource& time)
      : catalog_(catalog), store_(store), time_(time) {}

  // Every node of the tenant, ordered by parent, position, id.
  Result<std::vector<TreeNode>> List(int64_t tenant_id);
  // kNotFound for a missing node or another tenant's.
  Result<TreeNode> Get(int64_t tenant_id, int64_t node_id);
  // kInvalidArgument: bad name, fields that do not fit the kind; kNotFound: a parent, device or
  // term member not in this tenant; kFailedPrecondition: a parent that is a meter, a virtual
  // meter that would refer to itself; kAlreadyExists: a device linked by another node.
  Result<TreeNode> Create(int64_t tenant_id, const NodeInput& in);
  // As Create, plus kFailedPrecondition for a move into the node's own subtree.
  Result<TreeNode> Update(int64_t tenant_id, int64_t node_id, const NodeChange& change);
  // Deletes a leaf, or with `recursive` the node and its subtree; returns the deleted nodes.
  // kFailedPrecondition: children without `recursive`, a node a virtual meter (outside the
  // deleted subtree) uses. A manual meter's readings stay in the historian.
  Result<std::vector<TreeNode>> Delete(int64_t tenant_id, int64_t node_id, bool recursive);

  // A meter node's energy signal (see the summation rule above); nullopt for other nodes and
  // for a meter whose device has none.
  Result<std::optional<SignalInfo>> EnergySignal(int64_t tenant_id, const TreeNode& node);

  // Consumption per `interval` of every interval overlapping [from_ms, to_ms) that has data.
  // Errors of Engine::Aggregates (kInvalidArgument for too many intervals).
  Result<Consumption> NodeConsumption(int64_t tenant_id, int64_t node_id,
                                      historian::Interval interval, int64_t from_ms, int64_t to_ms);

  // Stores a reading of a manual meter as a kManual sample of its counter. kFailedPrecondition
  // when the node is not a manual meter or the reading is below an earlier one (or above a
  // later one); kInvalidArgument for a future time or a non-finite or negative value;
  // kAlreadyExists for a second reading at the same time.
  Result<Reading> AddReading(int64_t tenant_id, int64_t node_id, int64_t ts_ms, double value);
  // A meter's stored samples of its energy signal in [from_ms, to_ms), at most 10,000, with
  // their quality (manual readings are kManual).
  Result<std::vector<Reading>> Readings(int64_t tenant_id, int64_t node_id, int64_t from_ms,
                                        int64_t to_ms);

 private:
  Status CheckName(const std::string& name);
  // A parent in this tenant that may hold nodes.
  Status CheckParent(int64_t tenant_id, int64_t parent_id);
  // The device exists in the tenant and no node but `except` links it.
  Status CheckDevice(int64_t tenant_id, int64_t device_id, std::optional<int64_t> except);
  // Members exist in the tenant, signs are +-1, no member twice, and with `node_id` as the
  // virtual meter holding them no chain of virtual meters leads back to it.
  Status CheckTerms(int64_t tenant_id, int64_t node_id, const std::string& node_name,
                    const std::vector<VirtualTerm>& terms);
  Status StoreTerms(int64_t node_id, const std::vector<VirtualTerm>& terms);
  Result<std::vector<VirtualTerm>> TermsOf(int64_t node_id);

  Catalog& catalog_;
  historian::Engine& store_;
  TimeSource& time_;
};

}  // namespace wattline::server
