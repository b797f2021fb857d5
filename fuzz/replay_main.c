/* Corpus replay without libFuzzer: feeds every file named on the command line (for a directory,
 * every regular file in it, in name order) to the target's LLVMFuzzerTestOneInput once, each input
 * in a buffer of exactly its size so that ASan sees any read past it. Linked with each
 * fuzz/fuzz_*.c into replay_<target> by fuzz/CMakeLists.txt and run by ctest (fuzz_replay_<target>),
 * so that the committed corpora guard every build against regressions, not only `make fuzz`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (16u << 20)

static size_t n_inputs;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 0;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0 || (uint64_t)sb.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_MAX_INPUT);
        fclose(f);
        return 0;
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    int ok = buf && fread(buf, 1, n, f) == n;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return 0;
    }
    /* a crash here names the input: the last line printed */
    if (getenv("TKMS_REPLAY_VERBOSE")) fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    (void)LLVMFuzzerTestOneInput(buf, n); /* like libFuzzer: a valid pointer even for an empty input */
    free(buf);
    n_inputs++;
    return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int replay_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 0;
    }
    if (!S_ISDIR(sb.st_mode)) return replay_file(path);
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, by_name), ok = n >= 0;
    for (int i = 0; i < n; i++) {
        char p[4096];
        struct stat fs;
        if (snprintf(p, sizeof p, "%s/%s", path, ents[i]->d_name) < (int)sizeof p && stat(p, &fs) == 0 &&
            S_ISREG(fs.st_mode))
            ok &= replay_file(p);
        free(ents[i]);
    }
    free(ents);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) (void)LLVMFuzzerInitialize(&argc, &argv);
    int ok = 1;
    for (int i = 1; i < argc; i++) ok &= replay_path(argv[i]);
    printf("%s: replayed %zu input(s)\n", argv[0], n_inputs);
    /* an empty corpus would make this test pass without testing anything */
    return ok && n_inputs > 0 ? 0 : 1;
}
