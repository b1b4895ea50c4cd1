// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Items: LookupItem and CheckItem, a read of the module's item view
// (module/pf_view.c) mapped read-only once per process, with no system
// call; CreateItem, FindItem and DeleteItem (module/pf_item.c).
#include "internal.hpp"

#include <machio/portfolio.h>

#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <iterator>
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

// The tag, value pairs of a ...VA call, as a list: up to 63 of them, more
// than any item takes.
struct va_tags {
    TagArg list[64];

    // False if there are more than fit.
    bool collect(uint32 tag, va_list ap) {
        size_t n = 0;
        for (; tag != TAG_END && n + 1 < std::size(list); tag = va_arg(ap, uint32)) {
            list[n].ta_Tag = tag;
            list[n].ta_Arg = va_arg(ap, TagData);
            n++;
        }
        list[n] = TagArg{TAG_END, nullptr};
        return tag == TAG_END;
    }
};

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

extern "C" Item CreateItem(int32 ct, const TagArg* p) {
    static_assert(sizeof(TagArg) == sizeof(struct machio_pf_tag));
    static_assert(offsetof(TagArg, ta_Arg) == offsetof(struct machio_pf_tag, arg));
    return machio::detail::portfolio_tags_call(MACHIO_IOC_PF_CREATE_ITEM, ct, p);
}

extern "C" Item CreateItemVA(int32 ct, uint32 tag, ...) {
    va_tags tags;
    va_list ap;
    va_start(ap, tag);
    bool fits = tags.collect(tag, ap);
    va_end(ap);
    return fits ? CreateItem(ct, tags.list) : BADTAG;
}

extern "C" Err DeleteItem(Item i) {
    return machio::detail::portfolio_item_call(MACHIO_IOC_PF_DELETE_ITEM, i);
}

extern "C" Item FindItem(int32 ct, const TagArg* p) {
    return machio::detail::portfolio_tags_call(MACHIO_IOC_PF_FIND_ITEM, ct, p);
}

extern "C" Item FindItemVA(int32 ct, uint32 tag, ...) {
    va_tags tags;
    va_list ap;
    va_start(ap, tag);
    bool fits = tags.collect(tag, ap);
    va_end(ap);
    return fits ? FindItem(ct, tags.list) : BADTAG;
}

extern "C" Item FindNamedItem(int32 ct, const char* name) {
    TagArg tags[2] = {{TAG_ITEM_NAME, const_cast<char*>(name)}, {TAG_END, nullptr}};
    return FindItem(ct, tags);
}
