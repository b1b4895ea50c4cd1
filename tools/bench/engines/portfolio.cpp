// Engines "portfolio" and "portfolio-msg": 3DO Portfolio's calls
// (<machio/portfolio.h>) as a Portfolio program uses them, one IOReq per
// slot on the one request path.
#include "bench.hpp"
#include "engine.hpp"

#include <machio/portfolio.h>

#include <vector>

namespace machio_bench {
namespace {

std::string err_text(Err err) {
    char text[128];
    GetSysErr(text, sizeof(text), err);
    return text;
}

// What both engines share: the device opened, one IOReq per slot, and the
// slot's I/O started with SendIO and finished from the item view.
class portfolio_run {
  public:
    portfolio_run(const job& j, bool by_message) : j_(j), buf_(j.qd, j.bs), slots_(j.qd) {
        dev_ = OpenNamedDevice(j.device.c_str(), nullptr);
        if (dev_ < 0) {
            why_ = fmt::format("OpenNamedDevice {}: {}", j.device, err_text(dev_));
            return;
        }
        if (by_message) {
            port_ = CreateMsgPort(nullptr, 0, 0);
            if (port_ < 0) {
                why_ = fmt::format("CreateMsgPort: {}", err_text(port_));
                return;
            }
        }
        for (uint32_t s = 0; s < j.qd; s++) {
            slots_[s].ior = CreateIOReq(nullptr, uint8(j.slot_priority(s)), dev_, port_);
            if (slots_[s].ior < 0) {
                why_ = fmt::format("CreateIOReq: {}", err_text(slots_[s].ior));
                return;
            }
            slots_[s].view = static_cast<const IOReq*>(LookupItem(slots_[s].ior));
        }
    }
    ~portfolio_run() {
        for (const slot& s : slots_)
            if (s.ior > 0)
                DeleteIOReq(s.ior);
        if (port_ > 0)
            DeleteMsgPort(port_);
        if (dev_ > 0)
            CloseNamedDevice(dev_);
    }
    portfolio_run(const portfolio_run&) = delete;
    portfolio_run& operator=(const portfolio_run&) = delete;

    const std::string& why() const { return why_; }
    uint32_t size() const { return uint32_t(slots_.size()); }
    Item port() const { return port_; }
    Item ior(uint32_t s) const { return slots_[s].ior; }

    // SendIO of slot @s's next I/O; false once the run is over (or broken).
    bool issue(uint32_t s, rng& r, tally& t, first_error& err) {
        auto off = j_.src->next(r, now_ns());
        if (!off)
            return false;
        slot& sl = slots_[s];
        sl.off = *off;
        j_.before(buf_[s], *off);
        IOInfo info{};
        info.ioi_Command = j_.write ? CMD_WRITE : CMD_READ;
        info.ioi_Offset = int32(*off / j_.lbs);
        info.ioi_User = s;
        IOBuf& b = j_.write ? info.ioi_Send : info.ioi_Recv;
        b.iob_Buffer = buf_[s];
        b.iob_Len = int32(j_.bs);
        sl.submitted = now_ns();
        Err sent = SendIO(sl.ior, &info);
        t.syscalls++;
        if (sent < 0) {
            err.set(fmt::format("SendIO at offset {}: {}", *off, err_text(sent)));
            return false;
        }
        return true;
    }

    // Slot @s's I/O is done: count it, from the view's io_Error and io_Actual.
    void finish(uint32_t s, tally& t, first_error& err) {
        slot& sl = slots_[s];
        int64_t now = now_ns();
        t.last = now;
        if (sl.view->io_Error < 0)
            err.set(fmt::format("{} at offset {}: {}", j_.op_name(), sl.off,
                                err_text(sl.view->io_Error)));
        else if (auto why = j_.after(buf_[s], sl.off, sl.view->io_Actual); !why.empty())
            err.set(std::move(why));
        else
            t.done(j_, s, now - sl.submitted);
    }

  private:
    struct slot {
        Item ior = 0;
        const IOReq* view = nullptr;
        uint64_t off = 0;
        int64_t submitted = 0;
    };
    const job& j_;
    slot_buffers buf_;
    std::vector<slot> slots_;
    Item dev_ = 0, port_ = 0;
    std::string why_;
};

// One loop in the calling thread -- the task that owns the IOReqs.
template <class Body> result run_owner(const job& j, Body body) {
    tally t;
    if (j.classes)
        t.by_class.resize(priority_classes::count);
    first_error err(*j.src);
    meter m(*j.src);
    m.start();
    body(t, err);
    return m.finish({&t, 1}, err);
}

// Signal-based IOReqs: WaitSignal(SIGF_IODONE), then CheckIO (the view, no
// system call) over the slots in flight -- the docs' rule for signals,
// which do not say which request is done.
result run_portfolio(const job& j) {
    portfolio_run run(j, false);
    if (!run.why().empty())
        return failed(run.why());
    return run_owner(j, [&](tally& t, first_error& err) {
        rng r{thread_seed(0)};
        std::vector<bool> busy(run.size());
        uint32_t inflight = 0;
        for (uint32_t s = 0; s < run.size(); s++)
            if ((busy[s] = run.issue(s, r, t, err)))
                inflight++;
        while (inflight > 0) {
            int32 got = WaitSignal(SIGF_IODONE);
            t.syscalls++;
            if (got < 0) {
                err.set(fmt::format("WaitSignal: {}", err_text(got)));
                break;
            }
            for (uint32_t s = 0; s < run.size(); s++) {
                if (!busy[s] || CheckIO(run.ior(s)) != 1)
                    continue;
                run.finish(s, t, err);
                if (!(busy[s] = run.issue(s, r, t, err)))
                    inflight--;
            }
        }
        // A broken run: wait for what is left, so no buffer is in use.
        for (uint32_t s = 0; s < run.size(); s++)
            if (busy[s])
                WaitIO(run.ior(s));
    });
}

// Message-based IOReqs on one reply port: WaitPort for the next completion
// message, which names its IOReq (msg_DataPtr) and slot (msg_DataSize:
// ioi_User).
result run_portfolio_msg(const job& j) {
    portfolio_run run(j, true);
    if (!run.why().empty())
        return failed(run.why());
    return run_owner(j, [&](tally& t, first_error& err) {
        rng r{thread_seed(0)};
        uint32_t inflight = 0;
        for (uint32_t s = 0; s < run.size(); s++)
            inflight += run.issue(s, r, t, err);
        while (inflight > 0) {
            Item m = WaitPort(run.port(), 0);
            t.syscalls++;
            if (m < 0) {
                err.set(fmt::format("WaitPort: {}", err_text(m)));
                break;
            }
            auto s = uint32_t(static_cast<const Message*>(LookupItem(m))->msg_DataSize);
            run.finish(s, t, err);
            if (!run.issue(s, r, t, err))
                inflight--;
        }
    });
}

unsigned one_thread(const job&) {
    return 1;
}

} // namespace

extern const engine portfolio_engine = {
    .name = "portfolio",
    .about = nullptr,
    .run = run_portfolio,
    .threads = one_thread,
};

extern const engine portfolio_msg_engine = {
    .name = "portfolio-msg",
    .about = nullptr,
    .run = run_portfolio_msg,
    .threads = one_thread,
};

} // namespace machio_bench
