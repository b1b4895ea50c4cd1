// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Portfolio tasks and signals over the module (module/pf_signal.c):
// AllocSignal, FreeSignal, WaitSignal, SendSignal, GetCurrentSignals.
#include "internal.hpp"

#include <machio/portfolio.h>

namespace {

// One signal call: its Err.
int32 signal_call(unsigned long request, Item task, uint32 mask) {
    struct machio_pf_signal arg = {};
    arg.task = task;
    arg.mask = mask;
    if (int32 err = machio::detail::portfolio_ioctl(request, &arg))
        return err;
    return arg.result;
}

} // namespace

extern "C" Item machio_current_task(void) {
    struct machio_pf_task_info arg = {};
    if (int32 err = machio::detail::portfolio_ioctl(MACHIO_IOC_PF_TASK, &arg))
        return err;
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
