// Opens a perf event the way a session does (every online CPU, all tasks),
// to learn whether it would open, and closes it again.
#pragma once

#include <linux/perf_event.h>

namespace pctx::detail {

// 0 when the event opens on every online CPU, else the first errno.
int try_open_per_cpu(const perf_event_attr& attr);

} // namespace pctx::detail
