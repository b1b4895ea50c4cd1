// The registry of engines: each engines/*.cpp file defines its records.
#include "engine.hpp"

#include <utility>

namespace machio_bench {

extern const engine machio_engine;
extern const engine machio_batch_engine, machio_ring_engine, machio_fixed_engine,
    machio_poll_engine;
extern const engine io_uring_engine, io_uring_fixed_engine, io_uring_poll_engine;
extern const engine aio_engine;
extern const engine sync_engine;
extern const engine portfolio_engine, portfolio_msg_engine;

std::span<const engine> all_engines() {
    // Copied at the first call, by when the records (constants) are set.
    static const engine all[] = {
        machio_engine,      machio_batch_engine, machio_ring_engine,    machio_fixed_engine,
        machio_poll_engine, io_uring_engine,     io_uring_fixed_engine, io_uring_poll_engine,
        aio_engine,         sync_engine,         portfolio_engine,      portfolio_msg_engine,
    };
    return all;
}

const engine* find_engine(std::string_view name) {
    static constexpr std::pair<std::string_view, std::string_view> aliases[] = {
        {"uring", "io_uring"},
        {"io-uring", "io_uring"},
        {"libaio", "aio"},
        {"psync", "sync"},
    };
    for (const auto& [alias, real] : aliases)
        if (name == alias)
            name = real;
    for (const engine& e : all_engines())
        if (e.name == name)
            return &e;
    return nullptr;
}

} // namespace machio_bench
