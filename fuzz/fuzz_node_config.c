/* libFuzzer target: the operator node's config file (node_config_load: strict JSON, known keys,
 * typed and bounded values). The input is handed over as a file (an anonymous memfd, through
 * /proc/self/fd). Must never crash or leak; a refusal must say why; an accepted config must load
 * again from its own path with the same result. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd = memfd_create("tkms-fuzz-config", 0);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    node_config c;
    tkms_status st = {0};
    int ok = node_config_load(&c, path, &st);
    if (!ok && !st.msg[0]) abort();
    if (ok) {
        node_config again;
        tkms_status st2 = {0};
        if (!node_config_load(&again, path, &st2)) abort();
        if (again.max_body_bytes != c.max_body_bytes || again.clock_skew_s != c.clock_skew_s) abort();
        node_config_free(&again);
        node_config_free(&c);
    }
    close(fd);
    return 0;
}
