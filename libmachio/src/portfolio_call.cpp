// SPDX-License-Identifier: LGPL-2.1-or-later
//
// How every Portfolio call reaches the module: one ioctl on the process's
// space, which also makes the calling thread's task there on its first
// call -- so the thread is noted, and tells the module when it exits.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <cerrno>
#include <pthread.h>
#include <sys/ioctl.h>

namespace {

// A thread that made a task tells the module when it exits, from this
// key's destructor (pthread's, not a C++ thread_local: the C API links
// without libstdc++).  The value is the space's descriptor plus one.
pthread_key_t task_key;
pthread_once_t task_key_once = PTHREAD_ONCE_INIT;

void task_exit(void* value) {
    struct machio_pf_task_info arg = {};
    arg.flags = MACHIO_PF_TASK_EXIT;
    int fd = int(reinterpret_cast<intptr_t>(value)) - 1;
    ::ioctl(fd, MACHIO_IOC_PF_TASK, &arg);
}

void make_task_key() {
    pthread_key_create(&task_key, task_exit);
}

// Note that this thread has a task in the space of fd.
void remember_task(int fd) {
    pthread_once(&task_key_once, make_task_key);
    if (!pthread_getspecific(task_key))
        pthread_setspecific(task_key, reinterpret_cast<void*>(intptr_t(fd) + 1));
}

} // namespace

namespace machio::detail {

int32_t portfolio_ioctl(unsigned long request, void* arg) noexcept {
    const space_info* space = process_space();
    if (!space)
        return NOSUPPORT;
    // EINTR: a Linux signal in WaitSignal, which waits on; the argument
    // comes back unchanged from a failed call.
    while (::ioctl(space->fd, request, arg) != 0) {
        if (errno != EINTR)
            return errno == ENOTTY ? NOSUPPORT : BADPTR;
    }
    remember_task(space->fd);
    return 0;
}

int32_t portfolio_item_call(unsigned long request, int32_t item) noexcept {
    struct machio_pf_call arg = {};
    arg.arg = item;
    if (int32_t err = portfolio_ioctl(request, &arg))
        return err;
    return arg.result;
}

int32_t portfolio_tags_call(unsigned long request, int32_t type, const void* tags) noexcept {
    struct machio_pf_create arg = {};
    arg.type = type;
    arg.tags = reinterpret_cast<uintptr_t>(tags);
    if (int32_t err = portfolio_ioctl(request, &arg))
        return err;
    return arg.result;
}

} // namespace machio::detail
