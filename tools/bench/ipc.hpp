// The IPC table of machio-bench (ipc.cpp).
#pragma once

#include "bench.hpp"

namespace machio_bench {

// Round trips between two threads, @seconds per way, printed as a table.
void print_ipc_table(double seconds);

} // namespace machio_bench
