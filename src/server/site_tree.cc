#include "server/site_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

namespace wattline::server {
using historian::Statement;

namespace {
struct KindName {
  NodeKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {NodeKind::kSite, "site"},
    {NodeKind::kBuilding, "building"},
    {NodeKind::kDistributionBoard, "distribution_board"},
    {NodeKind::kCostCentre, "cost_centre"},
    {NodeKind::kMeter, "meter"},
    {NodeKind::kVirtualMeter, "virtual_meter"},
};

const char kSelectNode[] =
    "SELECT id, parent_id, kind, name, position, device_id, manual FROM tree_nodes ";

TreeNode ReadNode(const Statement& st) {
  TreeNode n;
  n.id = st.Int(0);
  if (!st.IsNull(1)) n.parent_id = st.Int(1);
  n.kind = ParseNodeKind(st.Text(2)).value_or(NodeKind::kSite);
  n.name = st.Text(3);
  n.position = st.Int(4);
  if (!st.IsNull(5)) n.device_id = st.Int(5);
  n.manual = st.Int(6) != 0;
  return n;
}

std::string NumText(double v) { return fmt::format("{}", v); }

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

void BindOptional(Statement& st, int index, std::optional<int64_t> v) {
  if (v)
    st.Bind(index, *v);
  else
    st.BindNull(index);
}
}  // namespace

std::string_view NodeKindName(NodeKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "site";
}

Result<NodeKind> ParseNodeKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return Fail(InvalidArgument("unknown node kind '" + std::string(name) +
                              "': expected site, building, distribution_board, cost_centre, "
                              "meter or virtual_meter"));
}

Result<std::vector<TreeNode>> SiteTree::List(int64_t tenant_id) {
  auto st = catalog_.db().Prepare(std::string(kSelectNode) +
                                  "WHERE tenant_id = ?1 ORDER BY parent_id, position, id");
  if (!st) return Fail(st.error());
  st->Bind(1, tenant_id);
  std::vector<TreeNode> out;
  std::map<int64_t, size_t> index;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    index[st->Int(0)] = out.size();
    out.push_back(ReadNode(*st));
  }
  auto terms = catalog_.db().Prepare(
      "SELECT t.node_id, t.member_id, t.sign FROM virtual_terms t JOIN tree_nodes n"
      " ON n.id = t.node_id WHERE n.tenant_id = ?1 ORDER BY t.rowid");
  if (!terms) return Fail(terms.error());
  terms->Bind(1, tenant_id);
  while (true) {
    auto row = terms->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    if (auto it = index.find(terms->Int(0)); it != index.end()) {
      out[it->second].terms.push_back({terms->Int(1), static_cast<int>(terms->Int(2))});
    }
  }
  return out;
}

Result<std::vector<VirtualTerm>> SiteTree::TermsOf(int64_t node_id) {
  auto st = catalog_.db().Prepare(
      "SELECT member_id, sign FROM virtual_terms WHERE node_id = ?1 ORDER BY rowid");
  if (!st) return Fail(st.error());
  st->Bind(1, node_id);
  std::vector<VirtualTerm> out;
  while (true) {
    auto row = st->Step();
    if (!row) return Fail(row.error());
    if (!*row) break;
    out.push_back({st->Int(0), static_cast<int>(st->Int(1))});
  }
  return out;
}

Result<TreeNode> SiteTree::Get(int64_t tenant_id, int64_t node_id) {
  auto st = catalog_.db().Prepare(std::string(kSelectNode) + "WHERE id = ?1 AND tenant_id = ?2");
  if (!st) return Fail(st.error());
  st->Bind(1, node_id).Bind(2, tenant_id);
  auto row = st->Step();
  if (!row) return Fail(row.error());
  if (!*row) return Fail(NotFound("no node " + std::to_string(node_id)));
  TreeNode n = ReadNode(*st);
  auto terms = TermsOf(n.id);
  if (!terms) return Fail(terms.error());
  n.terms = std::move(*terms);
  return n;
}

Status SiteTree::CheckName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return InvalidArgument("a node's name has 1 to 100 characters");
  }
  return Status::Ok();
}

Status SiteTree::CheckParent(int64_t tenant_id, int64_t parent_id) {
  auto parent = Get(tenant_id, parent_id);
  if (!parent) {
    if (parent.error().code() == Code::kNotFound) {
      return NotFound("parent node " + std::to_string(parent_id) + " does not exist");
    }
    return parent.error();
  }
  if (IsLeafKind(parent->kind)) {
    return FailedPrecondition("node " + Quoted(parent->name) + " is a " +
                              std::string(NodeKindName(parent->kind)) +
                              " and cannot hold other nodes");
  }
  return Status::Ok();
}

Status SiteTree::CheckDevice(int64_t tenant_id, int64_t device_id, std::optional<int64_t> except) {
  if (Status s = catalog_.CheckDevice(tenant_id, device_id); !s.ok()) return s;
  auto st = catalog_.db().Prepare(
      "SELECT name FROM tree_nodes WHERE tenant_id = ?1 AND device_id = ?2 AND (?3 IS NULL OR id "
      "!= ?3)");
  if (!st) return st.error();
  st->Bind(1, tenant_id).Bind(2, device_id);
  BindOptional(*st, 3, except);
  auto row = st->Step();
  if (!row) return row.error();
  if (*row) {
    return Status(Code::kAlreadyExists, "meter " + std::to_string(device_id) +
                                            " is already linked to node " + Quoted(st->Text(0)));
  }
  return Status::Ok();
}

Status SiteTree::CheckTerms(int64_t tenant_id, int64_t node_id, const std::string& node_name,
                            const std::vector<VirtualTerm>& terms) {
  if (terms.size() > kMaxTerms) return InvalidArgument("a virtual meter has at most 100 terms");
  auto nodes = List(tenant_id);
  if (!nodes) return nodes.error();
  std::map<int64_t, const TreeNode*> by_id;
  for (const TreeNode& n : *nodes) by_id[n.id] = &n;
  std::set<int64_t> seen;
  for (const VirtualTerm& t : terms) {
    if (t.sign != 1 && t.sign != -1) return InvalidArgument("a term's sign is 1 or -1");
    if (t.member_id == node_id) {
      return FailedPrecondition("virtual meter " + Quoted(node_name) + " cannot refer to itself");
    }
    if (!by_id.count(t.member_id)) {
      return NotFound("term member node " + std::to_string(t.member_id) + " does not exist");
    }
    if (!seen.insert(t.member_id).second) {
      return InvalidArgument("node " + Quoted(by_id[t.member_id]->name) +
                             " appears twice in the terms");
    }
  }
  if (node_id == 0) return Status::Ok();  // a new node: nothing refers to it yet
  // Only terms make one node's consumption depend on a virtual meter (virtual meters are never
  // summed into parents), so a cycle is a chain of terms through virtual meters back to this one.
  std::vector<std::string> path;
  std::set<int64_t> done;
  std::function<bool(int64_t)> reaches = [&](int64_t id) -> bool {
    auto it = by_id.find(id);
    if (it == by_id.end() || it->second->kind != NodeKind::kVirtualMeter) return false;
    if (id == node_id) return true;
    if (!done.insert(id).second) return false;
    for (const VirtualTerm& t : it->second->terms) {
      if (reaches(t.member_id)) {
        path.push_back(it->second->name);
        return true;
      }
    }
    return false;
  };
  for (const VirtualTerm& t : terms) {
    if (reaches(t.member_id)) {
      std::string chain = Quoted(node_name);
      for (auto it = path.rbegin(); it != path.rend(); ++it) chain += " -> " + Quoted(*it);
      chain += " -> " + Quoted(node_name);
      return FailedPrecondition("virtual meter " + Quoted(node_name) +
                                " would refer to itself through other virtual meters: " + chain);
    }
  }
  return Status::Ok();
}

Status SiteTree::StoreTerms(int64_t node_id, const std::vector<VirtualTerm>& terms) {
  auto del = catalog_.db().Prepare("DELETE FROM virtual_terms WHERE node_id = ?1");
  if (!del) return del.error();
  del->Bind(1, node_id);
  if (Status s = del->Run(); !s.ok()) return s;
  for (const VirtualTerm& t : terms) {
    auto ins = catalog_.db().Prepare(
        "INSERT INTO virtual_terms (node_id, member_id, sign) VALUES (?1, ?2, ?3)");
    if (!ins) return ins.error();
    ins->Bind(1, node_id).Bind(2, t.member_id).Bind(3, int64_t{t.sign});
    if (Status s = ins->Run(); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<TreeNode> SiteTree::Create(int64_t tenant_id, const NodeInput& in) {
  if (Status s = CheckName(in.name); !s.ok()) return Fail(s);
  const std::string kind(NodeKindName(in.kind));
  if (in.kind == NodeKind::kMeter) {
    if (in.device_id.has_value() == in.manual) {
      return Fail(InvalidArgument(
          "a meter node needs either device_id (a connector's meter) or \"manual\": true"));
    }
  } else if (in.device_id || in.manual) {
    return Fail(InvalidArgument("only meter nodes link a meter; this node is a " + kind));
  }
  if (in.kind != NodeKind::kVirtualMeter && !in.terms.empty()) {
    return Fail(InvalidArgument("only virtual meters have terms; this node is a " + kind));
  }
  if (in.parent_id) {
    if (Status s = CheckParent(tenant_id, *in.parent_id); !s.ok()) return Fail(s);
  }
  if (in.device_id) {
    if (Status s = CheckDevice(tenant_id, *in.device_id, std::nullopt); !s.ok()) return Fail(s);
  }
  if (Status s = CheckTerms(tenant_id, 0, in.name, in.terms); !s.ok()) return Fail(s);
  auto count = catalog_.db().Prepare("SELECT count(*) FROM tree_nodes WHERE tenant_id = ?1");
  if (!count) return Fail(count.error());
  count->Bind(1, tenant_id);
  if (auto row = count->Step(); !row) return Fail(row.error());
  if (static_cast<size_t>(count->Int(0)) >= kMaxNodes) {
    return Fail(Status(Code::kResourceExhausted, "a tenant's tree has at most 10000 nodes"));
  }

  int64_t id = 0;
  Status s = historian::InTransaction(catalog_.db(), [&]() -> Status {
    auto ins = catalog_.db().Prepare(
        "INSERT INTO tree_nodes (tenant_id, parent_id, kind, name, position, device_id, manual)"
        " VALUES (?1, ?2, ?3, ?4, coalesce(?5, (SELECT coalesce(max(position) + 1, 0) FROM"
        " tree_nodes WHERE tenant_id = ?1 AND parent_id IS ?2)), ?6, ?7)");
    if (!ins) return ins.error();
    ins->Bind(1, tenant_id).Bind(3, kind).Bind(4, in.name).Bind(7, int64_t{in.manual});
    BindOptional(*ins, 2, in.parent_id);
    BindOptional(*ins, 5, in.position);
    BindOptional(*ins, 6, in.device_id);
    if (Status e = ins->Run(); !e.ok()) return e;
    id = catalog_.db().LastInsertId();
    if (in.manual) {
      auto device = catalog_.CreateManualDevice(tenant_id, "manual-" + std::to_string(id),
                                                ToUnixMs(time_.SystemNow()));
      if (!device) return device.error();
      auto up = catalog_.db().Prepare("UPDATE tree_nodes SET device_id = ?2 WHERE id = ?1");
      if (!up) return up.error();
      up->Bind(1, id).Bind(2, device->device_id);
      if (Status e = up->Run(); !e.ok()) return e;
    }
    return StoreTerms(id, in.terms);
  });
  if (!s.ok()) return Fail(s);
  return Get(tenant_id, id);
}

Result<TreeNode> SiteTree::Update(int64_t tenant_id, int64_t node_id, const NodeChange& change) {
  auto node = Get(tenant_id, node_id);
  if (!node) return Fail(node.error());
  TreeNode after = *node;
  const std::string kind(NodeKindName(node->kind));
  if (change.name) {
    if (Status s = CheckName(*change.name); !s.ok()) return Fail(s);
    after.name = *change.name;
  }
  if (change.move) {
    if (change.parent_id) {
      if (Status s = CheckParent(tenant_id, *change.parent_id); !s.ok()) return Fail(s);
      auto nodes = List(tenant_id);
      if (!nodes) return Fail(nodes.error());
      std::map<int64_t, std::optional<int64_t>> parent_of;
      for (const TreeNode& n : *nodes) parent_of[n.id] = n.parent_id;
      // Walking up from the new parent must not meet the node itself; the bound guards against
      // a cycle stored by some other means.
      std::optional<int64_t> up = change.parent_id;
      for (size_t steps = 0; up && steps <= parent_of.size(); ++steps) {
        if (*up == node_id) {
          return Fail(FailedPrecondition("node " + Quoted(node->name) +
                                         " cannot move below itself or its own descendants"));
        }
        up = parent_of[*up];
      }
    }
    after.parent_id = change.parent_id;
  }
  if (change.device_id) {
    if (node->kind != NodeKind::kMeter || node->manual) {
      return Fail(InvalidArgument("only meter nodes that are not manual link a connector's meter"));
    }
    if (Status s = CheckDevice(tenant_id, *change.device_id, node_id); !s.ok()) return Fail(s);
    after.device_id = change.device_id;
  }
  if (change.terms) {
    if (node->kind != NodeKind::kVirtualMeter) {
      return Fail(InvalidArgument("only virtual meters have terms; this node is a " + kind));
    }
    if (Status s = CheckTerms(tenant_id, node_id, after.name, *change.terms); !s.ok()) {
      return Fail(s);
    }
    after.terms = *change.terms;
  }
  Status s = historian::InTransaction(catalog_.db(), [&]() -> Status {
    auto up = catalog_.db().Prepare(
        "UPDATE tree_nodes SET name = ?2, parent_id = ?3, device_id = ?4, position ="
        " coalesce(?5, CASE WHEN ?6 THEN (SELECT coalesce(max(position) + 1, 0) FROM tree_nodes"
        " WHERE tenant_id = ?7 AND parent_id IS ?3 AND id != ?1) ELSE position END) WHERE id = ?1");
    if (!up) return up.error();
    up->Bind(1, node_id).Bind(2, after.name).Bind(6, int64_t{change.move}).Bind(7, tenant_id);
    BindOptional(*up, 3, after.parent_id);
    BindOptional(*up, 4, after.device_id);
    BindOptional(*up, 5, change.position);
    if (Status e = up->Run(); !e.ok()) return e;
    return change.terms ? StoreTerms(node_id, *change.terms) : Status::Ok();
  });
  if (!s.ok()) return Fail(s);
  return Get(tenant_id, node_id);
}

Result<std::vector<TreeNode>> SiteTree::Delete(int64_t tenant_id, int64_t node_id, bool recursive) {
  auto node = Get(tenant_id, node_id);
  if (!node) return Fail(node.error());
  auto nodes = List(tenant_id);
  if (!nodes) return Fail(nodes.error());
  std::multimap<int64_t, const TreeNode*> children;
  std::map<int64_t, const TreeNode*> by_id;
  for (const TreeNode& n : *nodes) {
    by_id[n.id] = &n;
    if (n.parent_id) children.emplace(*n.parent_id, &n);
  }
  // The subtree in pre-order; deleted in reverse, so children go before their parents.
  std::vector<const TreeNode*> subtree;
  std::function<void(const TreeNode*)> collect = [&](const TreeNode* n) {
    subtree.push_back(n);
    auto [b, e] = children.equal_range(n->id);
    for (auto it = b; it != e; ++it) collect(it->second);
  };
  collect(by_id.at(node_id));
  if (!recursive && subtree.size() > 1) {
    return Fail(FailedPrecondition("node " + Quoted(node->name) + " has " +
                                   std::to_string(subtree.size() - 1) +
                                   " nodes below it; delete them first or use ?recursive=1"));
  }
  std::set<int64_t> ids;
  for (const TreeNode* n : subtree) ids.insert(n->id);
  for (const TreeNode& n : *nodes) {
    if (n.kind != NodeKind::kVirtualMeter || ids.count(n.id)) continue;
    for (const VirtualTerm& t : n.terms) {
      if (ids.count(t.member_id)) {
        return Fail(FailedPrecondition("node " + Quoted(by_id.at(t.member_id)->name) +
                                       " is used by virtual meter " + Quoted(n.name) +
                                       "; remove it from that meter's terms first"));
      }
    }
  }
  Status s = historian::InTransaction(catalog_.db(), [&]() -> Status {
    for (auto it = subtree.rbegin(); it != subtree.rend(); ++it) {
      for (const char* sql : {"DELETE FROM virtual_terms WHERE node_id = ?1",
                              "DELETE FROM tree_nodes WHERE id = ?1"}) {
        auto st = catalog_.db().Prepare(sql);
        if (!st) return st.error();
        st->Bind(1, (*it)->id);
        if (Status e = st->Run(); !e.ok()) return e;
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return Fail(s);
  std::vector<TreeNode> out;
  for (const TreeNode* n : subtree) out.push_back(*n);
  return out;
}

std::optional<SignalInfo> PickEnergySignal(const std::vector<SignalInfo>& signals) {
  for (const SignalInfo& s : signals) {
    if (s.kind == SignalKind::kCounter && (s.unit == "kWh" || s.unit == "Wh")) return s;
  }
  return std::nullopt;
}

Result<std::optional<SignalInfo>> SiteTree::EnergySignal(int64_t tenant_id, const TreeNode& node) {
  if (node.kind != NodeKind::kMeter || !node.device_id) return std::optional<SignalInfo>();
  auto signals = catalog_.ListSignals(tenant_id, node.device_id);
  if (!signals) return Fail(signals.error());
  return PickEnergySignal(*signals);
}

Result<Consumption> SiteTree::NodeConsumption(int64_t tenant_id, int64_t node_id,
                                              historian::Interval interval, int64_t from_ms,
                                              int64_t to_ms) {
  auto nodes = List(tenant_id);
  if (!nodes) return Fail(nodes.error());
  std::map<int64_t, const TreeNode*> by_id;
  std::multimap<int64_t, const TreeNode*> children;
  for (const TreeNode& n : *nodes) {
    by_id[n.id] = &n;
    if (n.parent_id) children.emplace(*n.parent_id, &n);
  }
  if (!by_id.count(node_id)) return Fail(NotFound("no node " + std::to_string(node_id)));

  using Series = std::map<int64_t, double>;  // interval start -> kWh
  std::map<int64_t, Series> memo;
  std::map<int64_t, std::optional<SignalInfo>> signal_of;
  std::set<int64_t> in_progress;
  // The meters a non-meter node sums: every meter node below it, not virtual meters.
  auto meters_below = [&](int64_t id) {
    std::vector<const TreeNode*> out;
    std::function<void(int64_t)> walk = [&](int64_t parent) {
      auto [b, e] = children.equal_range(parent);
      for (auto it = b; it != e; ++it) {
        if (it->second->kind == NodeKind::kMeter) out.push_back(it->second);
        walk(it->second->id);
      }
    };
    walk(id);
    return out;
  };
  std::function<Result<Series>(int64_t)> series = [&](int64_t id) -> Result<Series> {
    if (auto it = memo.find(id); it != memo.end()) return it->second;
    const TreeNode& n = *by_id.at(id);
    // CheckTerms keeps cycles out; this only guards against a damaged database.
    if (!in_progress.insert(id).second) {
      return Fail(Internal("virtual meter " + Quoted(n.name) + " refers to itself"));
    }
    Series out;
    if (n.kind == NodeKind::kMeter) {
      auto signal = EnergySignal(tenant_id, n);
      if (!signal) return Fail(signal.error());
      signal_of[id] = *signal;
      if (*signal) {
        const double scale = (*signal)->unit == "Wh" ? 0.001 : 1.0;
        auto aggs = store_.Aggregates((*signal)->id, interval, from_ms, to_ms);
        if (!aggs) return Fail(aggs.error());
        for (const historian::Aggregate& a : *aggs) {
          if (a.consumption && std::isfinite(*a.consumption)) {
            out[a.start_ms] += *a.consumption * scale;
          }
        }
      }
    } else {
      std::vector<std::pair<int64_t, int>> parts;
      if (n.kind == NodeKind::kVirtualMeter) {
        for (const VirtualTerm& t : n.terms) {
          if (by_id.count(t.member_id)) parts.emplace_back(t.member_id, t.sign);
        }
      } else {
        for (const TreeNode* m : meters_below(id)) parts.emplace_back(m->id, 1);
      }
      for (auto [member, sign] : parts) {
        auto s = series(member);
        if (!s) return Fail(s.error());
        for (auto [start, kwh] : *s) out[start] += sign * kwh;
      }
    }
    in_progress.erase(id);
    memo[id] = out;
    return out;
  };
  auto own = series(node_id);
  if (!own) return Fail(own.error());

  auto total = [](const Series& s) {
    double sum = 0;
    for (const auto& [start, kwh] : s) sum += kwh;
    return sum;
  };
  Consumption c;
  c.node_id = node_id;
  const TreeNode& n = *by_id.at(node_id);
  if (n.kind == NodeKind::kMeter) c.signal = signal_of[node_id];
  c.points.assign(own->begin(), own->end());
  c.total_kwh = total(*own);
  std::vector<std::pair<int64_t, int>> parts;
  if (n.kind == NodeKind::kVirtualMeter) {
    for (const VirtualTerm& t : n.terms) parts.emplace_back(t.member_id, t.sign);
  } else if (n.kind != NodeKind::kMeter) {
    for (const TreeNode* m : meters_below(node_id)) parts.emplace_back(m->id, 1);
  }
  for (auto [member, sign] : parts) {
    if (!memo.count(member)) continue;
    const TreeNode& m = *by_id.at(member);
    c.members.push_back({member, m.name, m.kind, sign, total(memo[member])});
  }
  return c;
}

Result<Reading> SiteTree::AddReading(int64_t tenant_id, int64_t node_id, int64_t ts_ms,
                                     double value) {
  auto node = Get(tenant_id, node_id);
  if (!node) return Fail(node.error());
  if (node->kind != NodeKind::kMeter || !node->manual) {
    return Fail(FailedPrecondition("node " + Quoted(node->name) +
                                   " is not a manual meter; readings go to manual meters only"));
  }
  if (!std::isfinite(value)) return Fail(InvalidArgument("a reading must be a finite number"));
  if (value < 0) return Fail(InvalidArgument("a meter reading cannot be negative"));
  const int64_t now = ToUnixMs(time_.SystemNow());
  if (ts_ms > now) {
    return Fail(InvalidArgument("the reading's time " + std::to_string(ts_ms) +
                                " is in the future (now " + std::to_string(now) + ")"));
  }
  auto signal = EnergySignal(tenant_id, *node);
  if (!signal) return Fail(signal.error());
  if (!*signal) return Fail(Internal("manual meter " + Quoted(node->name) + " has no counter"));
  const int64_t sid = (*signal)->id;
  auto same = store_.Range(sid, ts_ms, ts_ms + 1, 1);
  if (!same) return Fail(same.error());
  if (!same->empty()) {
    return Fail(Status(Code::kAlreadyExists, "there is already a reading at this time (" +
                                                 NumText(same->front().value) +
                                                 "); the first reading at a time stays"));
  }
  // The counter only grows: the reading must lie between its neighbours in time.
  auto before = store_.Range(sid, INT64_MIN, ts_ms, SIZE_MAX);
  if (!before) return Fail(before.error());
  if (!before->empty() && value < before->back().value) {
    return Fail(
        FailedPrecondition("the reading " + NumText(value) + " is lower than the earlier reading " +
                           NumText(before->back().value) + " at " +
                           std::to_string(before->back().ts_ms) + "; a counter never decreases"));
  }
  auto after = store_.Range(sid, ts_ms + 1, INT64_MAX, 1);
  if (!after) return Fail(after.error());
  if (!after->empty() && value > after->front().value) {
    return Fail(
        FailedPrecondition("the reading " + NumText(value) + " is higher than the later reading " +
                           NumText(after->front().value) + " at " +
                           std::to_string(after->front().ts_ms) + "; a counter never decreases"));
  }
  const historian::StoredSample sample{sid, ts_ms, value, Quality::kManual};
  if (Status s = store_.Append({&sample, 1}); !s.ok()) return Fail(s);
  return Reading{ts_ms, value, Quality::kManual};
}

Result<std::vector<Reading>> SiteTree::Readings(int64_t tenant_id, int64_t node_id, int64_t from_ms,
                                                int64_t to_ms) {
  auto node = Get(tenant_id, node_id);
  if (!node) return Fail(node.error());
  if (node->kind != NodeKind::kMeter) {
    return Fail(FailedPrecondition("node " + Quoted(node->name) + " is not a meter"));
  }
  auto signal = EnergySignal(tenant_id, *node);
  if (!signal) return Fail(signal.error());
  std::vector<Reading> out;
  if (!*signal) return out;
  auto samples = store_.Range((*signal)->id, from_ms, to_ms, 10000);
  if (!samples) return Fail(samples.error());
  for (const auto& s : *samples) out.push_back({s.ts_ms, s.value, s.quality});
  return out;
}

}  // namespace wattline::server
