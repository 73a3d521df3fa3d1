/* Host and domain names in a UTS namespace of the program's own (it unshares one at start,
 * so it never renames the machine), renamed every tick, checked on the verify trigger:
 *   hostname    the host name is "hc-T", T the last tick
 *   domainname  the domain name is "hc-domain-T"
 *
 * usage: names --verify-file PATH [--self-test-corrupt hostname|domainname]
 * --self-test-corrupt breaks one piece of state just before verifying, to prove its check
 * can fail. Needs CAP_SYS_ADMIN (unshare). */
#define _GNU_SOURCE
#include "selfcheck.h"

#include <sched.h>

static uint64_t ticks;

static void name(const char *prefix, uint64_t t, int (*set)(const char *, size_t))
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s%lu", prefix, (unsigned long)t);
    if (set(buf, (size_t)n) != 0)
        sc_die("sethostname/setdomainname");
}

static void tick(uint64_t t)
{
    ticks = t;
    name("hc-", t, sethostname);
    name("hc-domain-", t, setdomainname);
}

static void check(const char *what, const char *prefix, int (*get)(char *, size_t))
{
    char got[65], want[64];
    snprintf(want, sizeof want, "%s%lu", prefix, (unsigned long)ticks);
    if (get(got, sizeof got) != 0)
        sc_die("gethostname/getdomainname");
    if (strcmp(got, want) != 0)
        sc_fail("%s: '%s', expected '%s'", what, got, want);
}

int main(int argc, char **argv)
{
    static const char *const names[] = { "--verify-file", "--self-test-corrupt", NULL };
    const char *values[2] = { NULL, NULL };
    sc_parse(argc, argv, names, values);
    const char *verify_file = sc_required(values[0], names[0]);
    const char *corruption = sc_one_of(values[1], names[1], (const char *const[]){ "hostname", "domainname", NULL });

    if (unshare(CLONE_NEWUTS) != 0)
        sc_die("unshare(CLONE_NEWUTS)");
    sc_tick_until_verify(verify_file, tick);
    if (corruption)
        name(corruption[0] == 'h' ? "hc-" : "hc-domain-", ticks + 1,
             corruption[0] == 'h' ? sethostname : setdomainname);
    check("hostname", "hc-", gethostname);
    check("domainname", "hc-domain-", getdomainname);
    return sc_verdict();
}
