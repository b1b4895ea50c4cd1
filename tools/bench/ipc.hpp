// The IPC table of machio-bench (ipc.cpp).
#pragma once

#include "bench.hpp"

#include <cstdint>
#include <string>

namespace machio_bench {

// Round trips between two threads and two processes, @seconds per way,
// then one read at a time of @device (its first @region bytes, @lbs-byte
// blocks) answered by an io_done_queue and by a reply message, printed as
// tables.
void print_ipc_table(double seconds, const std::string& device, uint64_t region, unsigned lbs);

} // namespace machio_bench
