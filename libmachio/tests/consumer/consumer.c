/* Installed-header consumer in C: builds against <machio/mach.h> and runs
 * without a machio device. */
#include <machio/mach.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    mach_port_t queue = MACH_PORT_NULL;
    kern_return_t kr = io_done_queue_create(mach_host_self(), &queue);
    if (kr != KERN_FAILURE || strstr(mach_error_string(kr), "machio") == NULL) {
        fprintf(stderr, "unexpected: %d %s\n", kr, mach_error_string(kr));
        return 1;
    }
    if (sizeof(io_done_result_t) != sizeof(struct machio_io_done_result))
        return 2;
    printf("c consumer: %s\n", mach_error_string(kr));
    return 0;
}
