/* Runs a fuzz target over files (its committed corpus and every crash
 * found so far), without libFuzzer: the regression run of `make test`.
 * Prints TAP: one test per file. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long size;

    if (!f) {
        return -1;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(size > 0 ? (size_t)size : 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)size);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int i, n = 0, failed = 0;

    for (i = 1; i < argc; i++) {
        DIR *dir = opendir(argv[i]);
        struct dirent *e;

        while (dir && (e = readdir(dir)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.') {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (run_file(path) < 0) {
                printf("not ok %d - cannot read %s\n", ++n, path);
                failed++;
            }
            else {
                printf("ok %d - %s\n", ++n, path);
            }
        }
        if (dir) {
            closedir(dir);
        }
    }
    printf("1..%d\n", n);
    return failed || n == 0;
}
