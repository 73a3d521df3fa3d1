/*
 * dirtywriter: writes pages on command, so a test can compare what a dirty tracker reports with
 * what was written.
 *
 * usage: dirtywriter PAGES [thp]
 *   Maps PAGES pages of private anonymous memory (2 MiB-aligned and MADV_HUGEPAGE with "thp",
 *   else between two PROT_NONE pages), touches every page, prints "area ADDR PAGES", then
 *   answers one command per line of stdin:
 *     write ADDR              adds 1 to the byte at ADDR                      -> "ok"
 *     writes ADDR STEP COUNT  the same at ADDR, ADDR + STEP, ... COUNT times   -> "ok"
 *     map PAGES touch|fresh   maps a new area, touching its pages or not      -> "mapped ADDR"
 *     remap ADDR PAGES        maps a new touched area over [ADDR, +PAGES)     -> "ok"
 *     reserve PAGES           maps a PROT_NONE area (reserved address space)  -> "mapped ADDR"
 *     allow ADDR PAGES        mprotect(PROT_READ | PROT_WRITE)                -> "ok"
 *     discard ADDR PAGES      madvise(MADV_DONTNEED): the pages become zero   -> "ok"
 *     unmap ADDR PAGES        munmap                                          -> "ok"
 *     read ADDR COUNT         read(2) of COUNT bytes (at most 64 KiB) from a pipe into ADDR:
 *                             the kernel writes them; checks they arrived      -> "ok"
 *   Addresses are hexadecimal with 0x. Exits 0 at end of input, 2 on a bad command.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#define PAGE 4096UL
#define HUGE (2UL << 20)

static char *map_prot(unsigned long pages, void *at, int prot, int flags) {
    char *p = mmap(at, pages * PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

static char *map(unsigned long pages, void *at, int flags, int touch) {
    char *p = map_prot(pages, at, PROT_READ | PROT_WRITE, flags);
    if (touch) {
        memset(p, 1, pages * PAGE);
    }
    return p;
}

/* What "read" sends through the pipe: not the bytes already there, so that a lost read shows. */
static char pattern[64 << 10];

/* The kernel writes n bytes at addr for the program: read(2) from a pipe filled here. */
static void read_into(char *addr, unsigned long n) {
    int fds[2];
    if (n > sizeof pattern || pipe(fds) != 0) {
        fprintf(stderr, "dirtywriter: read of %lu bytes: no pipe for it\n", n);
        exit(1);
    }
    for (unsigned long i = 0; i < n; i++) {
        pattern[i] = (char) (addr[i] + 1 + i % 7);
    }
    ssize_t got = write(fds[1], pattern, n) == (ssize_t) n ? read(fds[0], addr, n) : -2;
    close(fds[0]);
    close(fds[1]);
    if (got != (ssize_t) n || memcmp(addr, pattern, n) != 0) {
        if (got == -1) {
            perror("read");
        }
        fprintf(stderr, "dirtywriter: read into %p: %zd of %lu bytes, %s\n", (void *) addr, got, n,
                got == (ssize_t) n ? "not the bytes sent" : "short");
        exit(1);
    }
}

/*
 * The startup area, between two PROT_NONE pages: the kernel joins it to no neighbour, whose
 * writes a tracker would then find in the same area as the test's.
 */
static char *map_alone(unsigned long pages) {
    char *p = map_prot(pages + 2, NULL, PROT_NONE, 0) + PAGE;
    if (mprotect(p, pages * PAGE, PROT_READ | PROT_WRITE) != 0) {
        perror("mprotect");
        exit(1);
    }
    memset(p, 1, pages * PAGE);
    return p;
}

static char *map_huge(unsigned long pages) {
    unsigned long len = pages * PAGE;
    char *raw = map(len / PAGE + HUGE / PAGE, NULL, 0, 0);
    char *p = (char *) (((uintptr_t) raw + HUGE - 1) & ~(HUGE - 1));
    if (madvise(p, len, MADV_HUGEPAGE) != 0) {
        perror("madvise(MADV_HUGEPAGE)");
        exit(1);
    }
    memset(p, 1, len);
    return p;
}

/* One line to the test, flushed at once: the test waits for it. */
static void __attribute__((format(printf, 1, 2))) reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dirtywriter PAGES [thp]\n");
        return 2;
    }
    unsigned long pages = strtoul(argv[1], NULL, 10);
    char *area = argc > 2 && strcmp(argv[2], "thp") == 0 ? map_huge(pages) : map_alone(pages);
    reply("area %p %lu", (void *) area, pages);

    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        void *addr;
        unsigned long n;
        char how[16];
        unsigned long step;
        if (sscanf(line, "writes %p %lu %lu", &addr, &step, &n) == 3) {
            for (unsigned long i = 0; i < n; i++) {
                ++((volatile char *) addr)[i * step];
            }
            reply("ok");
        } else if (sscanf(line, "write %p", &addr) == 1) {
            ++*(volatile char *) addr;
            reply("ok");
        } else if (sscanf(line, "map %lu %15s", &n, how) == 2) {
            reply("mapped %p", (void *) map(n, NULL, 0, strcmp(how, "touch") == 0));
        } else if (sscanf(line, "remap %p %lu", &addr, &n) == 2) {
            map(n, addr, MAP_FIXED, 1);
            reply("ok");
        } else if (sscanf(line, "reserve %lu", &n) == 1) {
            reply("mapped %p", (void *) map_prot(n, NULL, PROT_NONE, MAP_NORESERVE));
        } else if (sscanf(line, "allow %p %lu", &addr, &n) == 2) {
            if (mprotect(addr, n * PAGE, PROT_READ | PROT_WRITE) != 0) {
                perror("mprotect");
                return 1;
            }
            reply("ok");
        } else if (sscanf(line, "discard %p %lu", &addr, &n) == 2) {
            if (madvise(addr, n * PAGE, MADV_DONTNEED) != 0) {
                perror("madvise(MADV_DONTNEED)");
                return 1;
            }
            reply("ok");
        } else if (sscanf(line, "unmap %p %lu", &addr, &n) == 2) {
            if (munmap(addr, n * PAGE) != 0) {
                perror("munmap");
                return 1;
            }
            reply("ok");
        } else if (sscanf(line, "read %p %lu", &addr, &n) == 2) {
            read_into(addr, n);
            reply("ok");
        } else {
            fprintf(stderr, "dirtywriter: bad command: %s", line);
            return 2;
        }
    }
    return 0;
}
