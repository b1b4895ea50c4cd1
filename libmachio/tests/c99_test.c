/* <machio/mach.h> and <machio/portfolio.h> from strict C99 with
 * -pedantic, linked with the C compiler driver: proves the headers are C
 * and the C API needs no C++ runtime.  Runs without a machio device
 * (MACHIO_DEVICE names a missing node). */
#include <machio/mach.h>
#include <machio/portfolio.h>

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void) {
    mach_port_t queue = MACH_PORT_NULL;
    mach_port_t device = MACH_PORT_NULL;
    io_done_result_t result;
    char data[IO_INBAND_MAX];

    memset(&result, 0, sizeof(result));
    memset(data, 0, sizeof(data));
    CHECK(sizeof(io_done_result_t) == 160);
    {
        char text[128];

        CHECK(GetSysErr(text, sizeof(text), BADITEM) > 0);
        CHECK(strcmp(text, "FKr-Severe-System-Standard-Bad Item") == 0);
    }
    CHECK(mach_host_self() == MACH_PORT_NULL);
    CHECK(io_done_queue_create(mach_host_self(), &queue) == KERN_FAILURE);
    CHECK(device_open(mach_host_self(), D_READ | D_WRITE, "nullb0", &device) == KERN_FAILURE);
    CHECK(device_write_async_inband(device, queue, 7, 0, 0, data, sizeof(data)) == KERN_FAILURE);
    CHECK(io_done_queue_wait(queue, &result) == KERN_FAILURE);
    CHECK(strstr(mach_error_string(KERN_FAILURE), "machio") != NULL);
    CHECK(strcmp(mach_error_string(D_NO_SUCH_DEVICE), "(device) no such device") == 0);
    result.qd_type = IO_DONE_READ;
    CHECK(*(const int*)(const void*)&result.qd_control == IO_DONE_READ);
    if (failures)
        return 1;
    puts("c99 ok");
    return 0;
}
