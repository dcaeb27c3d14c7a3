#include "historian/codec/reference.h"

#include <bit>
#include <cmath>
#include <limits>

#include "historian/codec/ordered.h"

namespace wattline::historian::codec {
namespace {

// float32 patterns in sort order (ordered.h).
int64_t Ordered(float f) { return static_cast<int64_t>(ToOrdered(std::bit_cast<uint32_t>(f), 32)); }
float Unordered(int64_t o) {
  return std::bit_cast<float>(static_cast<uint32_t>(FromOrdered(static_cast<uint64_t>(o), 32)));
}

double Mean(std::span<const double> v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double Dot(std::span<const double> a, std::span<const double> b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

std::vector<double> Centered(std::span<const double> v) {
  const double m = Mean(v);
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i] - m;
  return out;
}

// Solves g c = b (k <= kMaxReferences) by elimination with partial pivoting. False when a pivot
// is negligible against the diagonal (a constant or collinear column).
bool Solve(std::vector<std::vector<double>> g, std::vector<double> b, std::vector<double>* c) {
  const size_t k = b.size();
  double scale = 0;
  for (size_t i = 0; i < k; ++i) scale = std::max(scale, std::fabs(g[i][i]));
  if (!(scale > 0) || !std::isfinite(scale)) return false;
  for (size_t col = 0; col < k; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < k; ++r) {
      if (std::fabs(g[r][col]) > std::fabs(g[piv][col])) piv = r;
    }
    if (std::fabs(g[piv][col]) <= scale * 1e-12) return false;
    std::swap(g[piv], g[col]);
    std::swap(b[piv], b[col]);
    for (size_t r = col + 1; r < k; ++r) {
      const double f = g[r][col] / g[col][col];
      for (size_t j = col; j < k; ++j) g[r][j] -= f * g[col][j];
      b[r] -= f * b[col];
    }
  }
  c->assign(k, 0);
  for (size_t i = k; i-- > 0;) {
    double s = b[i];
    for (size_t j = i + 1; j < k; ++j) s -= g[i][j] * (*c)[j];
    (*c)[i] = s / g[i][i];
    if (!std::isfinite((*c)[i])) return false;
  }
  return true;
}

bool AllFinite(std::span<const double> v) {
  for (double x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::vector<double>> FitReferences(std::span<const double> x, ReferenceColumns refs) {
  const size_t k = refs.size();
  if (k == 0 || k > kMaxReferences || x.empty() || !AllFinite(x)) return std::nullopt;
  std::vector<std::vector<double>> rc;
  for (auto r : refs) {
    if (r.size() != x.size() || !AllFinite(r)) return std::nullopt;
    rc.push_back(Centered(r));
  }
  const std::vector<double> xc = Centered(x);
  std::vector<std::vector<double>> g(k, std::vector<double>(k));
  std::vector<double> b(k);
  for (size_t i = 0; i < k; ++i) {
    b[i] = Dot(rc[i], xc);
    for (size_t j = 0; j <= i; ++j) g[i][j] = g[j][i] = Dot(rc[i], rc[j]);
  }
  std::vector<double> c;
  if (!Solve(g, b, &c)) return std::nullopt;
  std::vector<double> out(k + 1);
  double c0 = Mean(x);
  for (size_t i = 0; i < k; ++i) {
    c0 -= c[i] * Mean(refs[i]);
    out[i + 1] = c[i];
  }
  out[0] = c0;
  if (!AllFinite(out)) return std::nullopt;
  return out;
}

float PredictFromReferences(std::span<const double> coeffs, ReferenceColumns refs, size_t i) {
  // One order of operations, written out: the decoder must get the same float.
  double p = coeffs[0];
  for (size_t k = 0; k < refs.size(); ++k) {
    const double r = refs[k][i];
    if (!std::isfinite(r)) return 0.0f;
    p = p + coeffs[k + 1] * r;
  }
  if (!std::isfinite(p)) return 0.0f;
  constexpr double kMax = std::numeric_limits<float>::max();
  if (p > kMax) p = kMax;  // a double outside float's range must not be converted (UB)
  if (p < -kMax) p = -kMax;
  return static_cast<float>(p);
}

std::vector<double> ReferenceResiduals(std::span<const double> x, std::span<const double> coeffs,
                                       ReferenceColumns refs) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t have = Ordered(static_cast<float>(x[i]));
    const int64_t want = Ordered(PredictFromReferences(coeffs, refs, i));
    out[i] = static_cast<double>(have - want);
  }
  return out;
}

Status ApplyReferenceResiduals(std::span<const double> coeffs, ReferenceColumns refs,
                               std::span<double> values) {
  constexpr double kSpan = 4294967295.0;  // 2^32 - 1
  for (size_t i = 0; i < values.size(); ++i) {
    const double r = values[i];
    if (!(r >= -kSpan && r <= kSpan) || r != std::trunc(r)) {
      return DataLoss("referenced block: residual is not an integer within +-(2^32 - 1)");
    }
    const int64_t o = Ordered(PredictFromReferences(coeffs, refs, i)) + static_cast<int64_t>(r);
    if (o < 0 || o > static_cast<int64_t>(UINT32_MAX)) {
      return DataLoss("referenced block: residual leads outside the float32 patterns");
    }
    values[i] = static_cast<double>(Unordered(o));
  }
  return Status::Ok();
}

std::vector<size_t> ChooseReferences(std::span<const double> x, ReferenceColumns candidates) {
  std::vector<size_t> chosen;
  if (x.size() < 2 || !AllFinite(x)) return chosen;
  const std::vector<double> xc = Centered(x);
  const double sxx = Dot(xc, xc);
  if (!(sxx > 0)) return chosen;  // a constant: the signal's own codecs take it for nothing
  struct Cand {
    std::vector<double> c;           // centered values
    double var = 0, cov_x = 0;       // with itself and x
    std::vector<double> cov_chosen;  // with each chosen column, in order
  };
  std::vector<Cand> cands(candidates.size());
  std::vector<bool> usable(candidates.size(), false);
  for (size_t j = 0; j < candidates.size(); ++j) {
    if (candidates[j].size() != x.size() || !AllFinite(candidates[j])) continue;
    cands[j].c = Centered(candidates[j]);
    cands[j].var = Dot(cands[j].c, cands[j].c);
    cands[j].cov_x = Dot(cands[j].c, xc);
    usable[j] = cands[j].var > 0;
  }
  // Greedy steps while they lower the residual; then the prefix with the fewest estimated bits:
  // half a bit a sample per halving of the residual's variance against 9 bytes a reference.
  double rss = sxx;
  std::vector<double> rss_after;  // after 1, 2, ... references
  while (chosen.size() < kMaxReferences) {
    size_t best = candidates.size();
    double best_rss = rss;
    for (size_t j = 0; j < candidates.size(); ++j) {
      if (!usable[j]) continue;
      // Normal equations of chosen + j, from the covariances kept so far.
      const size_t k = chosen.size() + 1;
      std::vector<std::vector<double>> g(k, std::vector<double>(k));
      std::vector<double> b(k);
      for (size_t a = 0; a < chosen.size(); ++a) {
        const Cand& ca = cands[chosen[a]];
        b[a] = ca.cov_x;
        for (size_t bb = 0; bb < chosen.size(); ++bb) {
          g[a][bb] =
              bb < ca.cov_chosen.size() ? ca.cov_chosen[bb] : cands[chosen[bb]].cov_chosen[a];
        }
        g[a][k - 1] = g[k - 1][a] = cands[j].cov_chosen[a];
      }
      b[k - 1] = cands[j].cov_x;
      g[k - 1][k - 1] = cands[j].var;
      std::vector<double> c;
      if (!Solve(g, b, &c)) continue;
      double r = sxx;
      for (size_t a = 0; a < k; ++a) r -= c[a] * b[a];
      if (r < best_rss) {
        best_rss = r;
        best = j;
      }
    }
    if (best == candidates.size()) break;
    chosen.push_back(best);
    usable[best] = false;
    rss = std::max(best_rss, 0.0);
    rss_after.push_back(rss);
    // Covariances with the new column, for the next step.
    for (size_t j = 0; j < candidates.size(); ++j) {
      if (usable[j] || j == best) {
        cands[j].cov_chosen.push_back(j == best ? cands[j].var : Dot(cands[j].c, cands[best].c));
      }
    }
  }
  const double n = static_cast<double>(x.size());
  auto bits = [&](double r, size_t k) {
    return 0.5 * n * std::log2(std::max(r, sxx * 1e-30)) + 72.0 * static_cast<double>(k);
  };
  size_t keep = 0;
  double best_bits = bits(sxx, 0) - n * 0.25;  // and at least a quarter bit a sample better
  for (size_t k = 1; k <= rss_after.size(); ++k) {
    if (bits(rss_after[k - 1], k) < best_bits) {
      best_bits = bits(rss_after[k - 1], k);
      keep = k;
    }
  }
  chosen.resize(keep);
  return chosen;
}

}  // namespace wattline::historian::codec
