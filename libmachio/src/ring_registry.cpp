// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The rings of the process space's queues, found by queue name, so that
// io_done_queue_wait(queue, ...) -- which has only a name -- can take
// completions from the ring without a system call.
//
// Lookups are lock-free: a fixed table of buckets, each a list of entries
// that are never freed (a freed entry is reused for a later queue).  An
// entry's key is the space epoch and the queue name; a reader counts
// itself in @users and then checks the key again, and ring_unregister()
// clears the key and waits for the readers to leave before it unmaps the
// ring, so no thread ever reads a ring that is gone.
//
// Like the rest of the C API this uses nothing from libstdc++ that needs
// linking (std::atomic is header-only).
#include "internal.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <sched.h>

namespace machio::detail {

struct ring_entry {
    std::atomic<std::uint64_t> key{0}; // 0: free
    std::atomic<int> users{0};
    std::atomic<bool> claimed{false};
    ring_map ring;
    ring_entry* next = nullptr; // immutable once published
};

namespace {

constexpr std::size_t nr_buckets = 256;
std::atomic<ring_entry*> g_buckets[nr_buckets];

// Epochs start at 0; a queue name is never 0, so no live key is 0.
std::uint64_t key_of(std::uint64_t epoch, mach_port_t queue) noexcept {
    return epoch << 32 | queue;
}

std::atomic<ring_entry*>& bucket_of(mach_port_t queue) noexcept {
    // Names are index << 8 | generation: the index spreads them.
    return g_buckets[(queue >> 8) % nr_buckets];
}

ring_entry* find(std::uint64_t key, mach_port_t queue) noexcept {
    for (ring_entry* e = bucket_of(queue).load(std::memory_order_acquire); e; e = e->next)
        if (e->key.load(std::memory_order_acquire) == key)
            return e;
    return nullptr;
}

// Release an entry's ring once nobody reads it, and the entry for reuse;
// whoever clears the key does it.
void retire(ring_entry* e, std::uint64_t key) noexcept {
    if (!e->key.compare_exchange_strong(key, 0, std::memory_order_acq_rel))
        return;
    while (e->users.load(std::memory_order_acquire))
        sched_yield();
    ring_unmap(&e->ring);
    e->claimed.store(false, std::memory_order_release);
}

} // namespace

bool ring_register(std::uint64_t epoch, mach_port_t queue, const ring_map& ring) noexcept {
    std::atomic<ring_entry*>& bucket = bucket_of(queue);
    ring_entry* e = bucket.load(std::memory_order_acquire);
    bool expected = false;
    while (e && !e->claimed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        expected = false;
        e = e->next;
    }
    if (!e) {
        void* mem = std::malloc(sizeof(ring_entry));
        if (!mem)
            return false;
        e = new (mem) ring_entry;
        e->claimed.store(true, std::memory_order_relaxed);
        e->next = bucket.load(std::memory_order_acquire);
        while (!bucket.compare_exchange_weak(e->next, e, std::memory_order_acq_rel))
            ;
    }
    e->ring = ring;
    // Published last: a reader that sees the key sees the ring.
    e->key.store(key_of(epoch, queue), std::memory_order_release);
    return true;
}

ring_entry* ring_get(std::uint64_t epoch, mach_port_t queue) noexcept {
    const std::uint64_t key = key_of(epoch, queue);
    ring_entry* e = find(key, queue);
    if (!e)
        return nullptr;
    e->users.fetch_add(1, std::memory_order_acq_rel);
    if (e->key.load(std::memory_order_acquire) != key) {
        e->users.fetch_sub(1, std::memory_order_release);
        return nullptr;
    }
    return e;
}

const ring_map& ring_of(const ring_entry* entry) noexcept {
    return entry->ring;
}

void ring_put(ring_entry* entry) noexcept {
    entry->users.fetch_sub(1, std::memory_order_release);
}

void ring_unregister(std::uint64_t epoch, mach_port_t queue) noexcept {
    const std::uint64_t key = key_of(epoch, queue);
    if (ring_entry* e = find(key, queue))
        retire(e, key);
}

void ring_unregister_before(std::uint64_t epoch) noexcept {
    for (auto& bucket : g_buckets)
        for (ring_entry* e = bucket.load(std::memory_order_acquire); e; e = e->next) {
            const std::uint64_t key = e->key.load(std::memory_order_acquire);
            if (key && (key >> 32) < epoch)
                retire(e, key);
        }
}

} // namespace machio::detail
