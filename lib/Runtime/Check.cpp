//===- Check.cpp - The correctness yardstick (docs/spec.md §3) ------------===//

#include "FlashDialect/Runtime/Check.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace fattn::runtime {

ErrorStats measureError(const float *values, const double *reference,
                        int64_t count, double atol, double rtol) {
  ErrorStats stats;
  stats.count = count;
  stats.atol = atol;
  stats.rtol = rtol;
  for (int64_t i = 0; i < count; ++i) {
    double value = values[i], expected = reference[i];
    if (std::isnan(value) || std::isnan(expected)) {
      ++stats.numNonFinite;
      ++stats.numOutsideTolerance;
      continue;
    }
    if (std::isinf(value) || std::isinf(expected)) {
      // Empty rows have lse -inf on both sides; anything else is a mismatch.
      // Mismatches stay out of the max errors, which would otherwise read
      // "inf" and hide how close the finite elements are.
      if (value != expected) {
        ++stats.numNonFinite;
        ++stats.numOutsideTolerance;
      }
      continue;
    }
    double error = std::fabs(value - expected);
    stats.maxAbsError = std::max(stats.maxAbsError, error);
    if (expected != 0)
      stats.maxRelError =
          std::max(stats.maxRelError, error / std::fabs(expected));
    if (!(error <= atol + rtol * std::fabs(expected)))
      ++stats.numOutsideTolerance;
  }
  return stats;
}

/// printf into a std::string; the summaries are short, one line each.
__attribute__((format(printf, 1, 2))) static std::string
format(const char *pattern, ...) {
  char buffer[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof(buffer), pattern, args);
  va_end(args);
  return buffer;
}

Verdict judgeAgainstNaive(const char *name, const float *ours,
                          const float *naive, const double *reference,
                          int64_t count, const Tolerance &tolerance) {
  Verdict verdict;
  verdict.ours =
      measureError(ours, reference, count, tolerance.atol, tolerance.rtol);
  verdict.naive =
      measureError(naive, reference, count, tolerance.atol, tolerance.rtol);

  double maxAbsLimit =
      std::max(tolerance.floor, 2.0 * verdict.naive.maxAbsError);
  double fraction = verdict.ours.fractionOutsideTolerance();
  double fractionLimit =
      std::min(2.0 * verdict.naive.fractionOutsideTolerance(),
               tolerance.maxFailFraction);
  bool maxAbsOk = verdict.ours.maxAbsError <= maxAbsLimit;
  bool fractionOk = fraction <= fractionLimit;
  bool finiteOk = verdict.ours.numNonFinite == 0;
  verdict.pass = maxAbsOk && fractionOk && finiteOk;

  verdict.summary = format(
      "%s: %s max_abs=%.3g (naive %.3g, limit %.3g%s) frac_out_of_tol=%.2f%% "
      "(naive %.2f%%, limit %.2f%%%s) rtol=%g atol=%g n=%lld",
      name, verdict.pass ? "PASS" : "FAIL", verdict.ours.maxAbsError,
      verdict.naive.maxAbsError, maxAbsLimit, maxAbsOk ? "" : " EXCEEDED",
      100.0 * fraction, 100.0 * verdict.naive.fractionOutsideTolerance(),
      100.0 * fractionLimit, fractionOk ? "" : " EXCEEDED", tolerance.rtol,
      tolerance.atol, (long long)count);
  if (!finiteOk)
    verdict.summary +=
        format(", %lld non-finite", (long long)verdict.ours.numNonFinite);
  // A non-finite naive result means the yardstick itself is broken, which the
  // reader should know when the limits above look odd.
  if (verdict.naive.numNonFinite)
    verdict.summary += format(", naive has %lld non-finite",
                              (long long)verdict.naive.numNonFinite);
  return verdict;
}

Verdict judgeExact(const char *name, const float *ours, const double *reference,
                   int64_t count, double rtol, double atol) {
  Verdict verdict;
  verdict.ours = measureError(ours, reference, count, atol, rtol);
  verdict.pass =
      verdict.ours.numOutsideTolerance == 0 && verdict.ours.numNonFinite == 0;
  verdict.summary = format(
      "%s: %s max_abs=%.3g max_rel=%.3g, %lld of %lld outside "
      "atol=%g + rtol=%g*|ref|",
      name, verdict.pass ? "PASS" : "FAIL", verdict.ours.maxAbsError,
      verdict.ours.maxRelError, (long long)verdict.ours.numOutsideTolerance,
      (long long)count, atol, rtol);
  if (verdict.ours.numNonFinite)
    verdict.summary +=
        format(", %lld non-finite", (long long)verdict.ours.numNonFinite);
  return verdict;
}

} // namespace fattn::runtime
