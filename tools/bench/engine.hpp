// The engine interface of machio-bench: one engines/*.cpp file per kind of
// I/O loop, as fio's engines/, each defining the engines it runs; engine.cpp
// lists them.  The driver (main.cpp) knows an engine only by this record.
#pragma once

#include "bench.hpp"

#include <span>
#include <string>
#include <string_view>

namespace machio_bench {

struct engine {
    std::string_view name; // as -e takes it and the tables print it
    // What the intro's list of engines says after the name (from the job's
    // options: waiters, uring_fixed), e.g. " (QD threads)"; null: nothing.
    std::string (*about)(const job&);
    // One run: QD requests kept in flight until j.src says it is over.
    result (*run)(const job&);
    // Threads doing I/O in a run (the JSON's "threads").
    unsigned (*threads)(const job&);
    bool baseline = false;         // the one the "vs machio" column divides by
    bool needs_unsplit_io = false; // cannot run a request that the device must split
    bool multi_queue = false;      // spreads a thread's slots over job::queues queues
};

// engine::threads of the engines whose loop run_threads runs.
inline unsigned loop_threads(const job& j) {
    return j.threads;
}

// Every engine, in the order of the tables and of "-e all".
std::span<const engine> all_engines();
// By name or alias ("uring", "io-uring", "libaio", "psync"); null if none.
const engine* find_engine(std::string_view name);

} // namespace machio_bench
