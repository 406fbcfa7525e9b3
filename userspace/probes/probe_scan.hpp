// Finding a target's objects (directly through /proc, or through an
// indirect caller's callbacks) and turning each object's notes into probes.
#pragma once

#include "probes/mapped_objects.hpp"

#include <pctx/probes.hpp>

#include <string>
#include <vector>

namespace pctx::detail {

using ScannedObject = MappedObject;
using Diagnostic = std::function<void(const std::string&)>;

// Throw ProbeError naming function: BadPid, Permission or Internal.
std::vector<ScannedObject> scan_pid(pid_t pid, const char* function, const Diagnostic& diag);
std::vector<ScannedObject> scan_indirect(const ProbeIndirectConfig& config, const char* function,
                                         const Diagnostic& diag);
ScannedObject scan_file(const std::string& path);

// The probes of one object (ids left 0), addresses in the target's space.
std::vector<ProbeInfo> object_probes(const ScannedObject& obj, const Diagnostic& diag);

} // namespace pctx::detail
