// SPDX-License-Identifier: LGPL-2.1-or-later
//
// LookupItem and CheckItem: a read of the module's item view
// (module/pf_view.c), mapped read-only once per process, with no system
// call.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <atomic>
#include <sys/mman.h>

namespace {

// The view, mapped on first use; MAP_FAILED's stand-in is nullptr, and a
// failed map is retried next time.
std::atomic<const unsigned char*> view{nullptr};

const unsigned char* map_view() {
    const unsigned char* v = view.load(std::memory_order_acquire);
    if (v)
        return v;
    const machio::detail::space_info* space = machio::detail::process_space();
    if (!space)
        return nullptr;
    void* m = ::mmap(nullptr, MACHIO_PF_VIEW_SIZE, PROT_READ, MAP_SHARED, space->fd, 0);
    if (m == MAP_FAILED)
        return nullptr;
    const unsigned char* expected = nullptr;
    if (!view.compare_exchange_strong(expected, static_cast<const unsigned char*>(m),
                                      std::memory_order_acq_rel)) {
        ::munmap(m, MACHIO_PF_VIEW_SIZE); // another thread mapped it first
        return expected;
    }
    return static_cast<const unsigned char*>(m);
}

} // namespace

extern "C" void* LookupItem(Item i) {
    auto index = uint32(i) & (MACHIO_PF_MAX_ITEMS - 1);
    if (i <= 0 || index < MACHIO_PF_MIN_ITEM)
        return nullptr;
    const unsigned char* v = map_view();
    if (!v)
        return nullptr;
    auto* node = reinterpret_cast<const ItemNode*>(v + size_t(index) * MACHIO_PF_VIEW_SLOT);
    // The module publishes n_Item last and retracts it first.
    if (__atomic_load_n(&node->n_Item, __ATOMIC_ACQUIRE) != i)
        return nullptr;
    return const_cast<ItemNode*>(node);
}

extern "C" void* CheckItem(Item i, uint8 ftype, uint8 ntype) {
    auto* node = static_cast<const ItemNode*>(LookupItem(i));
    if (!node || node->n_SubsysType != ftype || node->n_Type != ntype)
        return nullptr;
    return const_cast<ItemNode*>(node);
}
