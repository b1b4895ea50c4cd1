// Installed-header consumer in C++20: builds against <machio/machio.hpp>
// and runs without a machio device.
#include <machio/machio.hpp>

#include <cstdio>

int main() {
    auto sp = machio::space::open();
    if (sp)
        return 1;
    auto q = machio::io_done_queue::create(machio::space::process());
    if (q)
        return 2;
    std::error_code ec = machio::kern_errc::terminated;
    if (ec != machio::kern_errc::terminated || ec.message() != "(os/kern) object terminated")
        return 3;
    std::printf("c++ consumer: %s / %s\n", sp.error().message().c_str(), ec.message().c_str());
    return 0;
}
