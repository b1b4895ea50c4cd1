// The fake machio module: see fake_kernel.hpp.
#include "fake_kernel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fake {

namespace {

constexpr std::uint32_t host_name = 0x101;
constexpr std::uint32_t task_name = 0x201;

struct completion {
    std::int32_t type = 0;
    std::uint32_t reqid = 0;
    std::int32_t code = 0;
    std::uint64_t data = 0;
    std::int32_t count = 0;
    bool inband = false;
    bool ool = false;
    std::uint8_t inline_data[MACHIO_IO_INBAND_MAX] = {};
};

enum class kind { host, task, queue, dead, device };

struct entry {
    kind k = kind::dead;
    std::deque<completion> done; // queue
    int file = -1;               // device: our own reference
    std::uint32_t mode = 0;      // device
};

struct space {
    std::map<std::uint32_t, entry> names;
    std::uint32_t next_index = 3;

    space() {
        names[host_name].k = kind::host;
        names[task_name].k = kind::task;
    }
};

struct state {
    std::mutex lock;
    std::map<int, space> spaces;
    std::map<unsigned long, int> injected;
    std::map<unsigned long, int> calls;
    std::vector<machio_io_request> submits;
    std::uint64_t last_wait_result = 0;
    std::vector<std::uint32_t> terminated;
    std::vector<std::uint32_t> deallocated;
    device_open_record last_open;
    std::uint64_t size = 1 << 20;
    std::uint32_t block_size = 512;
    std::vector<std::uint8_t> store;

    state() { fill_store(); }

    void fill_store() {
        store.assign(std::min<std::uint64_t>(size, 4 << 20), 0);
        for (std::size_t i = 0; i < store.size(); ++i)
            store[i] = initial_byte(i);
    }
};

state& st() {
    static state s;
    return s;
}

std::size_t round_page(std::size_t n) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return (n + page - 1) & ~(page - 1);
}

void discard(completion& c) {
    if (c.ool && c.data && c.count > 0)
        munmap(reinterpret_cast<void*>(c.data), round_page(static_cast<std::size_t>(c.count)));
}

void discard_all(space& sp) {
    for (auto& [name, e] : sp.names) {
        for (auto& c : e.done)
            discard(c);
        if (e.file >= 0)
            close(e.file);
    }
}

bool all_zero(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    return std::all_of(b, b + n, [](unsigned char c) { return c == 0; });
}

std::uint32_t alloc_name(space& sp, entry e) {
    std::uint32_t name = sp.next_index++ << 8 | 1;
    sp.names[name] = std::move(e);
    return name;
}

entry* lookup(space& sp, std::uint32_t name) {
    auto it = sp.names.find(name);
    return it == sp.names.end() ? nullptr : &it->second;
}

// Lookup for a queue: 0 and *q set, or an errno.
int lookup_queue(space& sp, std::uint32_t name, entry** q) {
    entry* e = lookup(sp, name);
    if (!e)
        return EINVAL;
    if (e->k == kind::dead)
        return ESHUTDOWN;
    if (e->k != kind::queue)
        return EINVAL;
    *q = e;
    return 0;
}

int do_query(space& sp, machio_query* q) {
    if (q->abi_version || q->io_inband_max || q->features || q->host_name || q->task_name ||
        q->max_names || q->pad || !all_zero(q->reserved, sizeof(q->reserved)))
        return EINVAL;
    (void)sp;
    q->abi_version = MACHIO_ABI_VERSION;
    q->io_inband_max = MACHIO_IO_INBAND_MAX;
    q->features = MACHIO_FEAT_IO_DONE_QUEUE | MACHIO_FEAT_OOL_READ | MACHIO_FEAT_INBAND;
    q->host_name = host_name;
    q->task_name = task_name;
    q->max_names = 64;
    return 0;
}

int do_queue_create(space& sp, machio_queue_create* a) {
    if (!all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    if (a->host != host_name)
        return EINVAL;
    entry e;
    e.k = kind::queue;
    a->queue = alloc_name(sp, std::move(e));
    return 0;
}

int do_queue_terminate(state& s, space& sp, machio_queue_terminate* a) {
    s.terminated.push_back(a->queue);
    if (a->pad || !all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    entry* q = nullptr;
    if (int err = lookup_queue(sp, a->queue, &q))
        return err;
    for (auto& c : q->done)
        discard(c);
    q->done.clear();
    q->k = kind::dead;
    return 0;
}

int do_queue_wait(state& s, space& sp, machio_queue_wait* a) {
    s.last_wait_result = a->result;
    if (a->flags || !all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    entry* q = nullptr;
    if (int err = lookup_queue(sp, a->queue, &q))
        return err;
    if (q->done.empty())
        return EINTR; // the module would block; pretend a signal came
    if (a->result < 65536)
        return EFAULT; // completion stays queued
    completion c = q->done.front();
    q->done.pop_front();

    machio_io_done_result out;
    std::memset(&out, 0, sizeof(out));
    out.qd_type = c.type;
    out.qd_reqid = c.reqid;
    out.qd_code = c.code;
    out.qd_data = c.data;
    out.qd_count = c.count;
    if (c.inband) {
        std::memcpy(out.qd_inline, c.inline_data, MACHIO_IO_INBAND_MAX);
        out.qd_data = a->result + offsetof(machio_io_done_result, qd_inline);
    }
    std::memcpy(reinterpret_cast<void*>(a->result), &out, sizeof(out));
    return 0;
}

int do_device_open(state& s, space& sp, machio_device_open* a) {
    if (!all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    if (!a->mode || (a->mode & ~(MACHIO_D_READ | MACHIO_D_WRITE)))
        return EINVAL;
    int fl = fcntl(a->fd, F_GETFL);
    if (fl < 0)
        return EBADF;
    int acc = fl & O_ACCMODE;
    if (((a->mode & MACHIO_D_WRITE) && acc == O_RDONLY) ||
        ((a->mode & MACHIO_D_READ) && acc == O_WRONLY))
        return EBADF;
    s.last_open.fd = a->fd;
    s.last_open.status_flags = fl;
    s.last_open.fd_flags = fcntl(a->fd, F_GETFD);
    s.last_open.mode = a->mode;

    entry e;
    e.k = kind::device;
    e.file = fcntl(a->fd, F_DUPFD_CLOEXEC, 100);
    e.mode = a->mode;
    a->device = alloc_name(sp, std::move(e));
    a->block_size = s.block_size;
    a->size = s.size;
    return 0;
}

int do_device_status(state& s, space& sp, machio_device_status* a) {
    if (!all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    entry* e = lookup(sp, a->device);
    if (!e || e->k != kind::device)
        return EINVAL;
    a->block_size = s.block_size;
    a->size = s.size;
    return 0;
}

int do_port_deallocate(state& s, space& sp, machio_port_deallocate* a) {
    s.deallocated.push_back(a->name);
    if (a->pad || !all_zero(a->reserved, sizeof(a->reserved)))
        return EINVAL;
    entry* e = lookup(sp, a->name);
    if (!e || e->k == kind::host || e->k == kind::task)
        return EINVAL;
    if (e->k == kind::queue)
        return EBUSY;
    if (e->file >= 0)
        close(e->file);
    sp.names.erase(a->name);
    return 0;
}

int do_submit(state& s, space& sp, machio_io_request* r) {
    s.submits.push_back(*r);
    if (r->pad || !all_zero(r->reserved, sizeof(r->reserved)))
        return EINVAL;
    if (r->op < MACHIO_OP_READ || r->op > MACHIO_OP_WRITE_INBAND)
        return EINVAL;
    const bool is_write = r->op == MACHIO_OP_WRITE || r->op == MACHIO_OP_WRITE_INBAND;
    const bool is_inband = r->op == MACHIO_OP_READ_INBAND || r->op == MACHIO_OP_WRITE_INBAND;
    entry* dev = lookup(sp, r->device);
    if (!dev || dev->k != kind::device)
        return EINVAL;
    entry* q = nullptr;
    if (r->queue != MACHIO_PORT_NULL || !is_write) {
        if (int err = lookup_queue(sp, r->queue, &q))
            return err;
    }
    if (r->mode & ~MACHIO_D_NOWAIT)
        return EINVAL;
    if (r->count < 0 || (is_inband && r->count > MACHIO_IO_INBAND_MAX))
        return EINVAL;
    const bool needs_buffer = r->op != MACHIO_OP_READ && r->op != MACHIO_OP_READ_INBAND;
    if (needs_buffer && r->count > 0 && r->buffer < 65536)
        return EFAULT;

    completion c;
    c.reqid = r->reqid;
    c.type = is_write                            ? MACHIO_IO_DONE_WRITE
             : r->op == MACHIO_OP_READ_OVERWRITE ? MACHIO_IO_DONE_OVERWRITE
                                                 : MACHIO_IO_DONE_READ;
    const std::uint64_t offset = std::uint64_t(r->recnum) * s.block_size;
    std::uint64_t n = 0;
    if (r->count > 0 && offset >= s.size)
        c.code = MACHIO_D_INVALID_RECNUM;
    else if (is_write && !(dev->mode & MACHIO_D_WRITE))
        c.code = MACHIO_D_READ_ONLY;
    else if (!is_write && !(dev->mode & MACHIO_D_READ))
        c.code = MACHIO_D_INVALID_OPERATION;
    else
        n = std::min<std::uint64_t>(std::uint64_t(r->count), s.size - offset);

    auto copy_out = [&](std::uint8_t* dst) {
        for (std::uint64_t i = 0; i < n; ++i)
            dst[i] = offset + i < s.store.size() ? s.store[offset + i] : 0;
    };
    if (c.code == 0) {
        c.count = static_cast<std::int32_t>(n);
        switch (r->op) {
        case MACHIO_OP_READ:
            if (n) {
                void* p = mmap(nullptr, round_page(n), PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                    c.code = MACHIO_D_NO_MEMORY;
                    c.count = 0;
                    break;
                }
                copy_out(static_cast<std::uint8_t*>(p));
                c.data = reinterpret_cast<std::uintptr_t>(p);
                c.ool = true;
            }
            break;
        case MACHIO_OP_READ_INBAND:
            copy_out(c.inline_data);
            c.inband = true;
            break;
        case MACHIO_OP_READ_OVERWRITE:
            copy_out(reinterpret_cast<std::uint8_t*>(r->buffer));
            c.data = r->buffer;
            break;
        default: { // writes
            const auto* src = reinterpret_cast<const std::uint8_t*>(r->buffer);
            for (std::uint64_t i = 0; i < n; ++i)
                if (offset + i < s.store.size())
                    s.store[offset + i] = src[i];
            break;
        }
        }
    }
    if (q)
        q->done.push_back(c);
    else
        discard(c);
    return 0;
}

int handle(int fd, unsigned long request, void* arg) {
    state& s = st();
    std::lock_guard guard(s.lock);
    s.calls[request]++;
    if (fcntl(fd, F_GETFD) < 0)
        return EBADF;
    if (auto it = s.injected.find(request); it != s.injected.end()) {
        int err = it->second;
        s.injected.erase(it);
        return err;
    }
    space& sp = s.spaces[fd];
    switch (request) {
    case MACHIO_IOC_QUERY:
        return do_query(sp, static_cast<machio_query*>(arg));
    case MACHIO_IOC_QUEUE_CREATE:
        return do_queue_create(sp, static_cast<machio_queue_create*>(arg));
    case MACHIO_IOC_QUEUE_TERMINATE:
        return do_queue_terminate(s, sp, static_cast<machio_queue_terminate*>(arg));
    case MACHIO_IOC_QUEUE_WAIT:
        return do_queue_wait(s, sp, static_cast<machio_queue_wait*>(arg));
    case MACHIO_IOC_DEVICE_OPEN:
        return do_device_open(s, sp, static_cast<machio_device_open*>(arg));
    case MACHIO_IOC_DEVICE_STATUS:
        return do_device_status(s, sp, static_cast<machio_device_status*>(arg));
    case MACHIO_IOC_PORT_DEALLOCATE:
        return do_port_deallocate(s, sp, static_cast<machio_port_deallocate*>(arg));
    case MACHIO_IOC_SUBMIT:
        return do_submit(s, sp, static_cast<machio_io_request*>(arg));
    default:
        return ENOTTY;
    }
}

} // namespace

void reset() {
    state& s = st();
    std::lock_guard guard(s.lock);
    for (auto& [fd, sp] : s.spaces)
        discard_all(sp);
    s.spaces.clear();
    s.injected.clear();
    s.calls.clear();
    s.submits.clear();
    s.last_wait_result = 0;
    s.terminated.clear();
    s.deallocated.clear();
    s.last_open = {};
    s.size = 1 << 20;
    s.block_size = 512;
    s.fill_store();
}

void inject(unsigned long request, int err) {
    std::lock_guard guard(st().lock);
    st().injected[request] = err;
}

void set_geometry(std::uint64_t size, std::uint32_t block_size) {
    std::lock_guard guard(st().lock);
    st().size = size;
    st().block_size = block_size;
    st().fill_store();
}

int calls(unsigned long request) {
    std::lock_guard guard(st().lock);
    auto it = st().calls.find(request);
    return it == st().calls.end() ? 0 : it->second;
}

std::vector<machio_io_request> submits() {
    std::lock_guard guard(st().lock);
    return st().submits;
}

std::uint64_t last_wait_result() {
    std::lock_guard guard(st().lock);
    return st().last_wait_result;
}

std::vector<std::uint32_t> terminated() {
    std::lock_guard guard(st().lock);
    return st().terminated;
}

std::vector<std::uint32_t> deallocated() {
    std::lock_guard guard(st().lock);
    return st().deallocated;
}

device_open_record last_device_open() {
    std::lock_guard guard(st().lock);
    return st().last_open;
}

std::size_t pending(int fd, std::uint32_t queue) {
    std::lock_guard guard(st().lock);
    auto sit = st().spaces.find(fd);
    if (sit == st().spaces.end())
        return 0;
    entry* e = lookup(sit->second, queue);
    return e ? e->done.size() : 0;
}

} // namespace fake

// The interposer.  Declared noexcept like glibc's (__THROW).
extern "C" int ioctl(int fd, unsigned long request, ...) noexcept {
    va_list ap;
    va_start(ap, request);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    if (_IOC_TYPE(request) != MACHIO_IOC_MAGIC)
        return static_cast<int>(syscall(SYS_ioctl, fd, request, arg));
    int err = fake::handle(fd, request, arg);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
