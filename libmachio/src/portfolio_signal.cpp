// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio tasks and signals over the module (module/pf_signal.c):
// AllocSignal, FreeSignal, WaitSignal, SendSignal, GetCurrentSignals.
#include "internal.hpp"

#include <machio/portfolio.h>

#include <cerrno>
#include <pthread.h>
#include <sys/ioctl.h>

namespace {

using machio::detail::process_space;

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

// One signal call: its Err, NOSUPPORT without machio; EINTR (a Linux
// signal in WaitSignal) waits again.
int32 signal_call(unsigned long request, Item task, uint32 mask) {
    const machio::detail::space_info* space = process_space();
    if (!space)
        return NOSUPPORT;
    for (;;) {
        struct machio_pf_signal arg = {};
        arg.task = task;
        arg.mask = mask;
        if (::ioctl(space->fd, request, &arg) == 0) {
            remember_task(space->fd);
            return arg.result;
        }
        if (errno != EINTR)
            return errno == ENOTTY ? NOSUPPORT : BADPTR;
    }
}

} // namespace

extern "C" Item machio_current_task(void) {
    const machio::detail::space_info* space = process_space();
    if (!space)
        return NOSUPPORT;
    struct machio_pf_task_info arg = {};
    if (::ioctl(space->fd, MACHIO_IOC_PF_TASK, &arg) != 0)
        return errno == ENOTTY ? NOSUPPORT : BADPTR;
    if (arg.result >= 0)
        remember_task(space->fd);
    return arg.result;
}

extern "C" int32 AllocSignal(uint32 sigMask) {
    return signal_call(MACHIO_IOC_PF_ALLOC_SIGNAL, 0, sigMask);
}

extern "C" Err FreeSignal(uint32 sigMask) {
    return signal_call(MACHIO_IOC_PF_FREE_SIGNAL, 0, sigMask);
}

extern "C" int32 WaitSignal(uint32 sigMask) {
    return signal_call(MACHIO_IOC_PF_WAIT_SIGNAL, 0, sigMask);
}

extern "C" Err SendSignal(Item task, uint32 sigMask) {
    return signal_call(MACHIO_IOC_PF_SEND_SIGNAL, task, sigMask);
}

extern "C" uint32 GetCurrentSignals(void) {
    int32 bits = signal_call(MACHIO_IOC_PF_GET_SIGNALS, 0, 0);
    return bits < 0 ? 0 : uint32(bits);
}
