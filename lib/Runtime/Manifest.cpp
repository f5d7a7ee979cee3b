//===- Manifest.cpp - Parse and write kernel manifests --------------------===//
//
// Every check that does not need a GPU happens here, so that a bad manifest
// is reported with its line before any driver is touched.
//
//===----------------------------------------------------------------------===//

#include "FlashDialect/Runtime/Manifest.h"

#include "FlashDialect/Runtime/Elements.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace fattn::runtime {

namespace {

std::nullopt_t fail(std::string *error, std::string message) {
  if (error)
    *error = std::move(message);
  return std::nullopt;
}

/// Splits a record into fields at runs of spaces or tabs.
std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
      ++pos;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t')
      ++end;
    if (end > pos)
      fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

template <typename Integer>
bool parseInteger(std::string_view text, Integer &value) {
  const char *end = text.data() + text.size();
  auto result = std::from_chars(text.data(), end, value);
  return result.ec == std::errc() && result.ptr == end;
}

/// strtod rather than std::from_chars: floating-point from_chars needs GCC
/// 11, and the GPU hosts build the runtime with whatever g++ they have. The
/// runtime never calls setlocale, so the decimal point is '.'.
bool parseDouble(std::string_view text, double &value) {
  std::string copy(text); // strtod needs the terminating NUL
  if (copy.empty() || std::isspace(static_cast<unsigned char>(copy[0])))
    return false;
  char *end = nullptr;
  errno = 0;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && errno != ERANGE;
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

/// The keys and how many values each takes (param: at least 3); slice and
/// param are the ones that may repeat, params (version 1), param (version
/// 2) and schedule (version 3) are checked against the version after the
/// whole is read.
struct KeySpec {
  const char *name;
  size_t numValues;
  bool required;
  bool variadic = false;
};
constexpr KeySpec kKeys[] = {
    {"kernel", 1, true},   {"ptx", 1, true},    {"grid", 3, true},
    {"block", 3, true},    {"shared", 1, true}, {"params", 5, false},
    {"param", 3, false, true},
    {"dtype", 1, true},    {"shape", 5, true},  {"scale", 1, true},
    {"softcap", 1, true},  {"slice", 5, false}, {"schedule", 5, false},
};
/// What a run-time mask's kernel takes besides q, k, v, out and lse: the
/// tables and scalars the runtime fills in from its plan.
const std::vector<std::string_view> kScheduleParams = {
    plan_param::kSlots, plan_param::kItems, plan_param::kItemSlices,
    plan_param::kSlices};
const std::vector<std::string_view> kScalarParams = {
    plan_param::kNumQ, plan_param::kNumK, plan_param::kNumSlots};
/// What such a kernel may take from each call instead of fixing it, with
/// '?' in the shape, scale or softcap record.
const std::vector<std::string_view> kCallParams = {
    call_param::kHeadsQ, call_param::kHeadsK, call_param::kScale,
    call_param::kSoftcap};

bool isOneOf(const std::vector<std::string_view> &names,
             const std::string &name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// The call parameters that are f32 (the others are i32).
bool isFloatCallParam(std::string_view name) {
  return name == call_param::kScale || name == call_param::kSoftcap;
}
/// Extents of one parameter: enough for any tensor a kernel takes.
constexpr size_t kMaxParamRank = 8;
constexpr size_t kMaxParams = 64;

const KeySpec *findKey(std::string_view name) {
  for (const KeySpec &spec : kKeys)
    if (name == spec.name)
      return &spec;
  return nullptr;
}

class Parser {
public:
  std::optional<KernelManifest> parse(std::string_view text,
                                      std::string *error);

private:
  /// Parses one record (fields[0] is its key) into `manifest`; returns the
  /// problem without the line prefix.
  std::optional<std::string>
  parseRecord(const std::vector<std::string_view> &fields);

  std::optional<std::string> parseDims(const std::vector<std::string_view> &f,
                                       std::array<unsigned, 3> &dims);
  std::optional<std::string>
  parseParam(const std::vector<std::string_view> &fields);
  std::optional<std::string> parseExtents(const std::vector<std::string_view> &f,
                                          KernelParam &param);
  std::optional<std::string>
  parseSchedule(const std::vector<std::string_view> &fields);
  /// The parameter list against the version and the attention it computes.
  std::optional<std::string> checkParams(bool sawParamsKey);
  /// A run-time mask's records against each other, or their absence.
  std::optional<std::string> checkRuntimeMask();
  /// The call parameters against the '?' of shape, scale and softcap.
  std::optional<std::string> checkCallParams();

  KernelManifest manifest;
  int version = 0;
  /// numQ, numK, headsQ, headsK written as '?' (a literal -1 is an error,
  /// not these); scale and softcap written '?'.
  bool dynamicCounts[4] = {false, false, false, false};
  bool callScale = false, callSoftcap = false;
};

std::optional<KernelManifest> Parser::parse(std::string_view text,
                                            std::string *error) {
  std::vector<int> firstLineOf(std::size(kKeys), 0);
  bool sawHeader = false;
  int lineNumber = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    std::vector<std::string_view> fields = splitFields(line);
    if (fields.empty() || fields[0][0] == '#')
      continue;
    std::string where = "line " + std::to_string(lineNumber) + ": ";

    if (!sawHeader) {
      if (fields[0] != "fattn-manifest")
        return fail(error, where + "expected 'fattn-manifest " +
                               std::to_string(kManifestVersion) +
                               "' as the first record, got " +
                               quoted(fields[0]));
      if (fields.size() != 2 || !parseInteger(fields[1], version))
        return fail(error, where + "expected 'fattn-manifest <version>'");
      if (version < 1 || version > kManifestVersion)
        return fail(error, where + "unsupported manifest version " +
                               std::to_string(version) +
                               " (this runtime reads versions 1 to " +
                               std::to_string(kManifestVersion) + ")");
      sawHeader = true;
      continue;
    }

    const KeySpec *spec = findKey(fields[0]);
    if (!spec)
      return fail(error, where + "unknown key " + quoted(fields[0]));
    size_t index = spec - kKeys;
    bool repeats = spec->variadic || std::string_view(spec->name) == "slice";
    if (!repeats && firstLineOf[index])
      return fail(error, where + "duplicate key " + quoted(spec->name) +
                             " (first on line " +
                             std::to_string(firstLineOf[index]) + ")");
    if (!firstLineOf[index])
      firstLineOf[index] = lineNumber;
    if (spec->variadic && fields.size() - 1 < spec->numValues)
      return fail(error, where + quoted(spec->name) + " takes a name, a "
                             "role, a dtype and its extents, got " +
                             std::to_string(fields.size() - 1) + " values");
    if (!spec->variadic && fields.size() - 1 != spec->numValues)
      return fail(error, where + quoted(spec->name) + " takes " +
                             std::to_string(spec->numValues) +
                             (spec->numValues == 1 ? " value" : " values") +
                             ", got " + std::to_string(fields.size() - 1));
    if (auto problem = parseRecord(fields))
      return fail(error, where + *problem);
  }

  if (!sawHeader)
    return fail(error, "empty manifest: expected 'fattn-manifest " +
                           std::to_string(kManifestVersion) + "'");
  for (size_t i = 0; i < std::size(kKeys); ++i)
    if (kKeys[i].required && !firstLineOf[i])
      return fail(error, "missing required key " + quoted(kKeys[i].name));

  // Consistency of the whole, which no single line decides.
  if (auto problem = checkRuntimeMask())
    return fail(error, *problem);
  // Run-time token and head counts are checked at each launch; any count is
  // checked here as 1 for everything else.
  AttentionShape shape = manifest.shape;
  int64_t *counts[] = {&shape.numQ, &shape.numK, &shape.headsQ,
                       &shape.headsK};
  for (int i = 0; i < 4; ++i)
    if (dynamicCounts[i])
      *counts[i] = 1;
  if (auto problem = checkShape(shape))
    return fail(error, "shape: " + *problem);
  if (!manifest.hasRuntimeMask())
    if (auto problem = mask::validate(manifest.mask, manifest.shape.numQ,
                                      manifest.shape.numK))
      return fail(error, "mask: " + *problem);
  size_t paramsKey = findKey("params") - kKeys;
  if (auto problem = checkParams(firstLineOf[paramsKey] != 0))
    return fail(error, *problem);
  return std::move(manifest);
}

std::optional<std::string> Parser::checkRuntimeMask() {
  bool runtimeMask = manifest.hasRuntimeMask();
  bool perCall = dynamicCounts[0] || dynamicCounts[1] || dynamicCounts[2] ||
                 dynamicCounts[3] || callScale || callSoftcap ||
                 manifest.grid[0] == 0;
  bool runtimeParams = std::any_of(
      manifest.parameters.begin(), manifest.parameters.end(),
      [](const KernelParam &param) {
        return param.role == ParamRole::Schedule || param.isScalar() ||
               !param.extentScalars.empty();
      });
  if (runtimeMask && version < 3)
    return std::string("'schedule' needs manifest version 3");
  if (runtimeMask && !manifest.mask.empty())
    return std::string("a kernel with a run-time mask ('schedule') takes no "
                       "'slice' records");
  if (runtimeMask != (manifest.grid[1] == 0))
    return std::string(runtimeMask ? "grid y must be '?' under a run-time "
                                     "mask: the plan decides it"
                                   : "grid y '?' needs a 'schedule' record");
  if (!runtimeMask && (perCall || runtimeParams))
    return std::string("'?' counts, scale or softcap, and parameters of role "
                       "schedule or scalar or with named extents, need a "
                       "'schedule' record (a run-time mask)");
  if (!runtimeMask)
    return std::nullopt;
  for (const KernelParam &param : manifest.parameters) {
    // Each plan parameter by its name and its role: a table or count under
    // another role would be passed where the kernel expects the other.
    bool table = isOneOf(kScheduleParams, param.name);
    bool count = isOneOf(kScalarParams, param.name) ||
                 isOneOf(kCallParams, param.name);
    if ((param.isScalar() && !count) ||
        (param.role == ParamRole::Schedule && !table))
      return "param " + quoted(param.name) +
             " is not one the runtime fills in from a run-time mask's plan";
    if ((table && param.role != ParamRole::Schedule) ||
        (count && !param.isScalar()))
      return "param " + quoted(param.name) + " must have role " +
             (table ? "schedule" : "scalar") + " (the plan fills it in)";
  }
  for (const auto *names : {&kScheduleParams, &kScalarParams})
    for (std::string_view name : *names)
      if (std::none_of(manifest.parameters.begin(), manifest.parameters.end(),
                       [&](const KernelParam &param) {
                         return param.name == name;
                       }))
        return "a kernel with a run-time mask takes a param " +
               quoted(name) + "; the manifest has none";
  return checkCallParams();
}

std::optional<std::string> Parser::checkCallParams() {
  const std::pair<const char *, bool> perCall[] = {
      {call_param::kHeadsQ, dynamicCounts[2]},
      {call_param::kHeadsK, dynamicCounts[3]},
      {call_param::kScale, callScale},
      {call_param::kSoftcap, callSoftcap}};
  const char *const records[] = {"shape headsQ", "shape headsK", "scale",
                                 "softcap"};
  if ((manifest.grid[0] == 0) != dynamicCounts[2])
    return std::string(dynamicCounts[2]
                           ? "grid x must be '?' when the call gives the "
                             "heads: it is their count"
                           : "grid x '?' needs shape headsQ '?'");
  for (size_t i = 0; i < std::size(perCall); ++i) {
    auto [name, dynamic] = perCall[i];
    bool taken = std::any_of(
        manifest.parameters.begin(), manifest.parameters.end(),
        [&, name = name](const KernelParam &param) { return param.name == name; });
    if (taken != dynamic)
      return std::string(records[i]) +
             (dynamic ? " is '?', so the kernel takes it per call: it needs "
                        "a param "
                      : " is fixed, so the kernel takes no param ") +
             quoted(name);
  }
  return std::nullopt;
}

std::optional<std::string> Parser::checkParams(bool sawParamsKey) {
  if (version == 1) {
    if (!sawParamsKey)
      return "missing required key 'params' (version 1)";
    if (!manifest.parameters.empty())
      return std::string("'param' records need manifest version 2");
    manifest.parameters = forwardParams(manifest.dtype, manifest.shape);
    return std::nullopt;
  }
  if (sawParamsKey)
    return std::string("'params' is version 1's; version 2 lists each "
                       "parameter in a 'param' record");
  if (manifest.parameters.empty())
    return std::string("missing 'param' records: a kernel takes at least one "
                       "parameter");
  // A named extent is a scalar the kernel takes.
  for (const KernelParam &param : manifest.parameters)
    for (const std::string &scalar : param.extentScalars)
      if (!scalar.empty() &&
          std::none_of(manifest.parameters.begin(), manifest.parameters.end(),
                       [&](const KernelParam &other) {
                         return other.isScalar() && other.name == scalar;
                       }))
        return "param " + quoted(param.name) + " extent " + quoted(scalar) +
               " names no scalar param";
  // The attention's own tensors must be the shape the oracle and the
  // launch checks assume.
  for (const KernelParam &expected :
       forwardParams(manifest.dtype, manifest.shape))
    for (const KernelParam &param : manifest.parameters)
      if (param.name == expected.name && !(param == expected)) {
        std::string extents;
        size_t named = 0;
        for (int64_t extent : expected.extents)
          extents += " " + (extent == kDynamicExtent
                                ? expected.extentScalars[named++]
                                : std::to_string(extent));
        return "param " + quoted(param.name) + " must be '" + param.name +
               " " + (expected.role == ParamRole::Input ? "input" : "output") +
               " " + std::string(stringifyElementType(expected.dtype)) +
               extents + "' to match dtype and shape";
      }
  return std::nullopt;
}

std::optional<std::string>
Parser::parseParam(const std::vector<std::string_view> &fields) {
  std::string_view name = fields[1];
  if (manifest.parameters.size() == kMaxParams)
    return "more than " + std::to_string(kMaxParams) + " parameters";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return "param name " + quoted(name) +
             " must be letters, digits and '_'";
  for (const KernelParam &other : manifest.parameters)
    if (other.name == name)
      return "duplicate param " + quoted(name);
  KernelParam param;
  param.name = std::string(name);
  std::optional<ParamRole> role = parseParamRole(fields[2]);
  if (!role)
    return "param role " + quoted(fields[2]) +
           " must be input, output, schedule or scalar";
  param.role = *role;
  if (param.role == ParamRole::Schedule || param.isScalar()) {
    bool isFloat = param.isScalar() && isFloatCallParam(name);
    if (fields[3] != (isFloat ? "f32" : "i32"))
      return "param " + quoted(name) + " of role " + quoted(fields[2]) +
             " has dtype " + (isFloat ? "f32" : "i32") + ", got " +
             quoted(fields[3]);
    if (isFloat)
      param.dtype = ElementType::F32;
  } else {
    std::optional<ElementType> type = parseElementType(fields[3]);
    if (!type)
      return "param dtype " + quoted(fields[3]) +
             " (expected bf16, f16 or f32)";
    param.dtype = *type;
  }
  if (param.isScalar() != (fields.size() == 4))
    return "param " + quoted(name) +
           (param.isScalar() ? " is a scalar and takes no extents"
                             : " takes one or more extents");
  if (fields.size() - 4 > kMaxParamRank)
    return "param " + quoted(name) + " has more than " +
           std::to_string(kMaxParamRank) + " extents";
  if (auto problem = parseExtents(fields, param))
    return problem;
  manifest.parameters.push_back(std::move(param));
  return std::nullopt;
}

/// Every static extent positive and their product within the largest tensor
/// the runtime accepts, so byte sizes never overflow; a dynamic one names
/// its scalar (checked once every param is read), or is '?' for a schedule
/// table.
std::optional<std::string>
Parser::parseExtents(const std::vector<std::string_view> &fields,
                     KernelParam &param) {
  int64_t elements = 1;
  for (size_t i = 4; i < fields.size(); ++i) {
    std::string_view text = fields[i];
    bool named = !text.empty() && (std::isalpha(static_cast<unsigned char>(
                                       text[0])) || text[0] == '_');
    if (named || text == "?") {
      if (text == "?" && param.role != ParamRole::Schedule)
        return "param " + quoted(param.name) +
               " extent '?' is for schedule tables only; name the scalar "
               "that gives it";
      param.extents.push_back(kDynamicExtent);
      param.extentScalars.push_back(text == "?" ? "" : std::string(text));
      continue;
    }
    int64_t extent = 0;
    if (!parseInteger(text, extent) || extent <= 0 ||
        extent > limits::kMaxTensorElements / elements)
      return "param " + quoted(param.name) + " extent " + quoted(text) +
             " is not a positive integer or a scalar's name, or the tensor "
             "exceeds 2^40 elements";
    elements *= extent;
    param.extents.push_back(extent);
  }
  return std::nullopt;
}

std::optional<std::string>
Parser::parseSchedule(const std::vector<std::string_view> &fields) {
  RuntimeSchedule schedule;
  if (!parseInteger(fields[1], schedule.blockQ) ||
      !parseInteger(fields[2], schedule.blockK) || schedule.blockQ <= 0 ||
      schedule.blockK <= 0 || schedule.blockQ > limits::kMaxTileSize ||
      schedule.blockK > limits::kMaxTileSize)
    return "schedule block sizes " + quoted(fields[1]) + " " +
           quoted(fields[2]) + " are not positive integers up to 65536";
  if (fields[3] != "clipped" && fields[3] != "whole")
    return "schedule key edge " + quoted(fields[3]) +
           " must be clipped or whole";
  schedule.keyEdge =
      fields[3] == "whole" ? mask::KeyEdge::Whole : mask::KeyEdge::Clipped;
  if (fields[4] != "uniform" && fields[4] != "aligned")
    return "schedule query tiles " + quoted(fields[4]) +
           " must be uniform or aligned";
  schedule.queryTiles = fields[4] == "aligned" ? mask::QueryTiles::SliceAligned
                                               : mask::QueryTiles::Uniform;
  if (!parseInteger(fields[5], schedule.maxItemsPerTile) ||
      schedule.maxItemsPerTile <= 0 ||
      schedule.maxItemsPerTile > limits::kMaxItemsPerTile)
    return "schedule items per tile " + quoted(fields[5]) +
           " is not a positive integer up to " +
           std::to_string(limits::kMaxItemsPerTile);
  manifest.schedule = schedule;
  return std::nullopt;
}

std::optional<std::string>
Parser::parseDims(const std::vector<std::string_view> &fields,
                  std::array<unsigned, 3> &dims) {
  for (size_t i = 0; i < 3; ++i) {
    // Grid y may be left to a run-time mask's plan, grid x to the call's
    // heads (checkRuntimeMask, checkCallParams).
    if (fields[0] == "grid" && i < 2 && fields[i + 1] == "?") {
      if (i == 0 && version < 4)
        return std::string("grid x '?' needs manifest version 4");
      dims[i] = 0;
      continue;
    }
    if (!parseInteger(fields[i + 1], dims[i]) || dims[i] == 0)
      return quoted(fields[0]) + " value " + quoted(fields[i + 1]) +
             " is not a positive integer";
  }
  return std::nullopt;
}

std::optional<std::string>
Parser::parseRecord(const std::vector<std::string_view> &fields) {
  std::string_view key = fields[0];
  if (key == "kernel" || key == "ptx") {
    // Names go into driver calls, file paths and messages: printable ASCII.
    for (char c : fields[1])
      if (c < 0x21 || c > 0x7e)
        return quoted(key) + " value must be printable ASCII, got a byte " +
               std::to_string(static_cast<unsigned char>(c));
    (key == "kernel" ? manifest.kernel : manifest.ptxFile) =
        std::string(fields[1]);
    return std::nullopt;
  }
  if (key == "grid") {
    if (auto problem = parseDims(fields, manifest.grid))
      return problem;
    if (manifest.grid[0] > limits::kMaxGridX ||
        manifest.grid[1] > limits::kMaxGridYZ ||
        manifest.grid[2] > limits::kMaxGridYZ)
      return "grid " + std::to_string(manifest.grid[0]) + "x" +
             std::to_string(manifest.grid[1]) + "x" +
             std::to_string(manifest.grid[2]) +
             " exceeds CUDA's limits of 2^31 - 1 in x and 65535 in y and z";
    return std::nullopt;
  }
  if (key == "block") {
    if (auto problem = parseDims(fields, manifest.block))
      return problem;
    // The architectural limit on every CUDA GPU so far; a block past it can
    // never launch, whatever the kernel.
    uint64_t threads =
        uint64_t(manifest.block[0]) * manifest.block[1] * manifest.block[2];
    if (threads > uint64_t(limits::kMaxBlockThreads))
      return "block of " + std::to_string(threads) +
             " threads exceeds the CUDA limit of 1024";
    return std::nullopt;
  }
  if (key == "shared") {
    if (!parseInteger(fields[1], manifest.sharedBytes))
      return "'shared' value " + quoted(fields[1]) +
             " is not a non-negative integer";
    if (manifest.sharedBytes > uint64_t(limits::kMaxSharedBytesAnyGpu))
      return "shared memory of " + std::to_string(manifest.sharedBytes) +
             " bytes exceeds 232448 (227 KiB), the most any GPU gives a CTA";
    return std::nullopt;
  }
  if (key == "params") {
    static const char *const kExpected[] = {"q", "k", "v", "out", "lse"};
    for (size_t i = 0; i < 5; ++i)
      if (fields[i + 1] != kExpected[i])
        return std::string("params must be 'q k v out lse' (the only kernel "
                           "ABI of version 1), got ") +
               quoted(fields[i + 1]) + " at position " + std::to_string(i);
    return std::nullopt;
  }
  if (key == "param")
    return parseParam(fields);
  if (key == "schedule")
    return parseSchedule(fields);
  if (key == "dtype") {
    std::optional<ElementType> type = parseElementType(fields[1]);
    if (!type)
      return "unknown dtype " + quoted(fields[1]) +
             " (expected bf16, f16 or f32)";
    manifest.dtype = *type;
    return std::nullopt;
  }
  if (key == "shape") {
    int64_t *sizes[] = {&manifest.shape.numQ, &manifest.shape.numK,
                        &manifest.shape.headsQ, &manifest.shape.headsK,
                        &manifest.shape.headDim};
    static const char *const kNames[] = {"numQ", "numK", "headsQ", "headsK",
                                         "headDim"};
    for (size_t i = 0; i < 5; ++i) {
      // Token counts (version 3) and head counts (version 4) may come with
      // each launch (checkRuntimeMask).
      if (i < 4 && fields[i + 1] == "?") {
        if (i >= 2 && version < 4)
          return std::string("shape ") + kNames[i] +
                 " '?' needs manifest version 4";
        *sizes[i] = kDynamicExtent;
        dynamicCounts[i] = true;
        continue;
      }
      if (!parseInteger(fields[i + 1], *sizes[i]))
        return std::string("shape ") + kNames[i] + " " + quoted(fields[i + 1]) +
               " is not an integer";
    }
    // Sign and divisibility are checked once the whole manifest is read, by
    // the same checkShape the CPU runner uses.
    return std::nullopt;
  }
  if ((key == "scale" || key == "softcap") && fields[1] == "?") {
    if (version < 4)
      return quoted(key) + " '?' needs manifest version 4";
    (key == "scale" ? manifest.params.scale : manifest.params.softcap) =
        kCallParam;
    (key == "scale" ? callScale : callSoftcap) = true;
    return std::nullopt;
  }
  if (key == "scale") {
    double scale;
    if (!parseDouble(fields[1], scale) || !std::isfinite(scale) ||
        scale <= 0 || scale > limits::kMaxScoreScale)
      return "scale " + quoted(fields[1]) +
             " is not a positive finite number up to 2^64 (write the "
             "effective scale, e.g. 0.125 for head dim 64)";
    manifest.params.scale = scale;
    return std::nullopt;
  }
  if (key == "softcap") {
    double softcap;
    if (!parseDouble(fields[1], softcap) || !std::isfinite(softcap) ||
        softcap < 0 || softcap > limits::kMaxScoreScale)
      return "softcap " + quoted(fields[1]) +
             " is not a finite number in [0, 2^64] (0 means none)";
    manifest.params.softcap = softcap;
    return std::nullopt;
  }
  if (key == "slice") {
    int64_t values[5];
    for (size_t i = 0; i < 5; ++i)
      if (!parseInteger(fields[i + 1], values[i]))
        return "slice value " + quoted(fields[i + 1]) + " is not an integer";
    std::optional<mask::SliceKind> kind = mask::sliceKindFromCode(values[4]);
    if (!kind)
      return "unknown slice kind code " + std::to_string(values[4]) +
             " (expected 0 full, 1 causal, 2 inv_causal, 3 bi_causal)";
    manifest.mask.push_back(
        mask::Slice{values[0], values[1], values[2], values[3], *kind});
    return std::nullopt;
  }
  return "unhandled key " + quoted(key);
}

/// Shortest %g text that parses back to the same double (17 significant
/// digits always do).
std::string formatDouble(double value) {
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

} // namespace

size_t KernelParam::elementSize() const {
  return role == ParamRole::Input || role == ParamRole::Output
             ? elementBytes(dtype)
             : sizeof(int32_t);
}

int64_t KernelParam::elements() const {
  int64_t count = 1;
  for (int64_t extent : extents)
    count *= extent;
  return count;
}

size_t KernelParam::bytes() const {
  return size_t(elements()) * elementSize();
}

std::vector<KernelParam> forwardParams(ElementType dtype,
                                       const AttentionShape &shape) {
  using Role = ParamRole;
  auto named = [](std::initializer_list<std::pair<int64_t, const char *>>
                      extents) {
    std::vector<std::string> names;
    for (auto [count, scalar] : extents)
      if (count == kDynamicExtent)
        names.push_back(scalar);
    return names;
  };
  std::vector<std::string> queries = named({{shape.numQ, plan_param::kNumQ},
                                            {shape.headsQ, call_param::kHeadsQ}}),
                           keys = named({{shape.numK, plan_param::kNumK},
                                         {shape.headsK, call_param::kHeadsK}});
  return {
      {"q", Role::Input, dtype, {shape.numQ, shape.headsQ, shape.headDim},
       queries},
      {"k", Role::Input, dtype, {shape.numK, shape.headsK, shape.headDim}, keys},
      {"v", Role::Input, dtype, {shape.numK, shape.headsK, shape.headDim}, keys},
      {"out", Role::Output, dtype, {shape.numQ, shape.headsQ, shape.headDim},
       queries},
      {"lse", Role::Output, ElementType::F32, {shape.numQ, shape.headsQ},
       queries},
  };
}

std::optional<KernelManifest> parseManifest(std::string_view text,
                                            std::string *error) {
  return Parser().parse(text, error);
}

std::optional<std::string> readTextFile(const std::string &path,
                                        std::string *error) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return fail(error,
                "cannot read " + quoted(path) + ": " + std::strerror(errno));
  std::string contents;
  char buffer[1 << 16];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    contents.append(buffer, count);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed)
    return fail(error, "cannot read " + quoted(path) + ": read error");
  return contents;
}

std::optional<KernelManifest> readManifest(const std::string &path,
                                           std::string *error) {
  std::optional<std::string> text = readTextFile(path, error);
  if (!text)
    return std::nullopt;
  std::string problem;
  std::optional<KernelManifest> manifest = parseManifest(*text, &problem);
  if (!manifest)
    return fail(error, path + ": " + problem);
  return manifest;
}

std::string formatManifest(const KernelManifest &manifest) {
  auto dims = [](const std::array<unsigned, 3> &d) {
    auto dim = [](unsigned value) {
      return value ? std::to_string(value) : std::string("?");
    };
    return dim(d[0]) + " " + dim(d[1]) + " " + dim(d[2]);
  };
  auto count = [](int64_t value) {
    return value == kDynamicExtent ? std::string("?") : std::to_string(value);
  };
  const AttentionShape &shape = manifest.shape;
  std::string text =
      "fattn-manifest " + std::to_string(kManifestVersion) + "\n";
  text += "kernel " + manifest.kernel + "\n";
  text += "ptx " + manifest.ptxFile + "\n";
  text += "grid " + dims(manifest.grid) + "\n";
  text += "block " + dims(manifest.block) + "\n";
  text += "shared " + std::to_string(manifest.sharedBytes) + "\n";
  for (const KernelParam &param : manifest.parameters) {
    text += "param " + param.name + " " +
            std::string(stringifyParamRole(param.role)) + " " +
            (param.role == ParamRole::Input || param.role == ParamRole::Output ||
                     param.isFloatScalar()
                 ? std::string(stringifyElementType(param.dtype))
                 : std::string("i32"));
    size_t named = 0;
    for (int64_t extent : param.extents) {
      std::string scalar =
          extent == kDynamicExtent ? param.extentScalars[named++] : "";
      text += " " + (extent != kDynamicExtent ? std::to_string(extent)
                                              : scalar.empty() ? "?" : scalar);
    }
    text += "\n";
  }
  text += "dtype " + std::string(stringifyElementType(manifest.dtype)) + "\n";
  text += "shape " + count(shape.numQ) + " " + count(shape.numK) + " " +
          count(shape.headsQ) + " " + count(shape.headsK) + " " +
          std::to_string(shape.headDim) + "\n";
  // The effective scale, so that readers need not know the default.
  auto param = [](double value, double fixed) {
    return value == kCallParam ? std::string("?") : formatDouble(fixed);
  };
  const AttentionParams &params = manifest.params;
  text += "scale " + param(params.scale, params.effectiveScale(shape)) + "\n";
  text += "softcap " +
          param(params.softcap, params.softcap > 0 ? params.softcap : 0.0) +
          "\n";
  for (const mask::Slice &slice : manifest.mask)
    text += "slice " + std::to_string(slice.qBegin) + " " +
            std::to_string(slice.qEnd) + " " + std::to_string(slice.kBegin) +
            " " + std::to_string(slice.kEnd) + " " +
            std::to_string(static_cast<int>(slice.kind)) + "\n";
  if (const std::optional<RuntimeSchedule> &schedule = manifest.schedule)
    text += "schedule " + std::to_string(schedule->blockQ) + " " +
            std::to_string(schedule->blockK) + " " +
            (schedule->keyEdge == mask::KeyEdge::Whole ? "whole" : "clipped") +
            " " +
            (schedule->queryTiles == mask::QueryTiles::SliceAligned
                 ? "aligned"
                 : "uniform") +
            " " + std::to_string(schedule->maxItemsPerTile) + "\n";
  return text;
}

std::string resolvePtxPath(const std::string &manifestPath,
                           const KernelManifest &manifest) {
  if (!manifest.ptxFile.empty() && manifest.ptxFile[0] == '/')
    return manifest.ptxFile;
  size_t slash = manifestPath.rfind('/');
  if (slash == std::string::npos)
    return manifest.ptxFile;
  return manifestPath.substr(0, slash + 1) + manifest.ptxFile;
}

} // namespace fattn::runtime
