// SPDX-License-Identifier: LGPL-2.1-or-later
//
// vm_deallocate: releasing the out-of-line data of device_read_async.
#include "internal.hpp"

#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

namespace machio::detail {

kern_return_t unmap(std::uintptr_t address, std::size_t size) noexcept {
    if (size == 0)
        return KERN_SUCCESS;
    const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t start = address & ~(page - 1);
    std::uintptr_t end = 0;
    if (__builtin_add_overflow(address, size, &end) || __builtin_add_overflow(end, page - 1, &end))
        return KERN_INVALID_ARGUMENT;
    end &= ~(page - 1);
    if (::munmap(reinterpret_cast<void*>(start), end - start) != 0)
        return errno_to_kern(errno, call_kind::generic);
    return KERN_SUCCESS;
}

} // namespace machio::detail

using namespace machio::detail;

extern "C" kern_return_t vm_deallocate(mach_port_t task, vm_address_t address, vm_size_t size) {
    const space_info* space = process_space();
    if (!space)
        return KERN_FAILURE;
    if (task != space->task)
        return KERN_INVALID_ARGUMENT;
    return unmap(address, size);
}
