/*
 * Kernel definitions hotclone needs that Debian 12's 6.1 uapi headers lack (they appeared in
 * Linux 6.7 and later) or that the kernel never exports to user space. Every definition is
 * guarded so that a newer system header wins; values are those of Linux 6.18's uapi headers
 * (include/uapi/linux/fs.h, include/uapi/linux/userfaultfd.h) and kernel sources.
 * Include after the system headers.
 */
#ifndef HOTCLONE_UAPI_H
#define HOTCLONE_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* ---- PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux 6.7, include/uapi/linux/fs.h) ---- */

#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;		/* exclusive */
	__u64 categories;	/* PAGE_IS_* of the region */
};

struct pm_scan_arg {
	__u64 size;		/* sizeof(struct pm_scan_arg) */
	__u64 flags;		/* PM_SCAN_* */
	__u64 start;
	__u64 end;
	__u64 walk_end;		/* written by the kernel: where the walk stopped */
	__u64 vec;		/* struct page_region[vec_len] */
	__u64 vec_len;
	__u64 max_pages;	/* 0 = no limit */
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

#ifndef PM_SCAN_WP_MATCHING
#define PM_SCAN_WP_MATCHING	(1 << 0)	/* write-protect the matched pages */
#endif
#ifndef PM_SCAN_CHECK_WPASYNC
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)	/* fail on a page without async WP */
#endif

#ifndef PAGE_IS_WPALLOWED
#define PAGE_IS_WPALLOWED	(1 << 0)
#endif
#ifndef PAGE_IS_WRITTEN
#define PAGE_IS_WRITTEN		(1 << 1)
#endif
#ifndef PAGE_IS_FILE
#define PAGE_IS_FILE		(1 << 2)
#endif
#ifndef PAGE_IS_PRESENT
#define PAGE_IS_PRESENT		(1 << 3)
#endif
#ifndef PAGE_IS_SWAPPED
#define PAGE_IS_SWAPPED		(1 << 4)
#endif
#ifndef PAGE_IS_PFNZERO
#define PAGE_IS_PFNZERO		(1 << 5)
#endif
#ifndef PAGE_IS_HUGE
#define PAGE_IS_HUGE		(1 << 6)
#endif
#ifndef PAGE_IS_SOFT_DIRTY
#define PAGE_IS_SOFT_DIRTY	(1 << 7)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD		(1 << 8)	/* Linux 6.15 */
#endif

/* ---- userfaultfd features newer than 6.1 (include/uapi/linux/userfaultfd.h) ---- */

#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM	(1 << 12)
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)	/* Linux 6.4 */
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON		(1 << 14)	/* Linux 6.6 */
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)	/* Linux 6.7 */
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE		(1 << 16)	/* Linux 6.8 */
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY		1
#endif

/*
 * The kernel's struct sigaction for rt_sigaction(2) as an injected syscall sees it on x86_64
 * (arch/x86/include/asm/signal.h, CONFIG_X86_64): glibc's struct sigaction differs (its mask is
 * 128 bytes and comes second). Pointers are plain integers: they are addresses in the traced
 * program, never in ours.
 */
struct hc_kernel_sigaction {
	unsigned long handler;	/* SIG_DFL 0, SIG_IGN 1, or an address */
	unsigned long flags;	/* SA_* */
	unsigned long restorer;	/* needed with SA_RESTORER */
	unsigned long mask;	/* the kernel's 64-bit sigset_t */
};

/* The kernel's signal numbers: glibc reserves 32 and 33 for itself and counts 65 signals. */
#define HC_KERNEL_SIGRTMIN	32
#define HC_KERNEL_NSIG		64

#ifndef SA_RESTORER
#define SA_RESTORER		0x04000000	/* arch/x86/include/uapi/asm/signal.h */
#endif

/* The kernel's O_LARGEFILE, which /proc/PID/fdinfo shows; glibc defines it as 0 on x86_64. */
#define HC_KERNEL_O_LARGEFILE	0100000

/*
 * Restart errnos (include/linux/errno.h): never seen by a program, but a syscall interrupted by
 * ptrace stops returns them in rax, and a restore must restart the call the same way.
 */
#ifndef ERESTARTSYS
#define ERESTARTSYS		512
#endif
#ifndef ERESTARTNOINTR
#define ERESTARTNOINTR		513
#endif
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND		514
#endif
#ifndef ERESTART_RESTARTBLOCK
#define ERESTART_RESTARTBLOCK	516
#endif

/* Auxiliary vector entries newer than glibc 2.36 (include/uapi/linux/auxvec.h, Linux 6.3). */
#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE	27
#endif
/* ---- translating a pid into a pid namespace (Linux 6.11, include/uapi/linux/nsfs.h) ---- */

#ifndef NS_GET_PID_IN_PIDNS
#define NS_GET_PID_IN_PIDNS	_IOR(0xb7, 0x8, int)
#endif

#ifndef AT_RSEQ_ALIGN
#define AT_RSEQ_ALIGN		28
#endif

/* ---- timerfd's expiration count (include/uapi/linux/timerfd.h, which clashes with glibc's
 * sys/timerfd.h); the kernel takes it with CONFIG_CHECKPOINT_RESTORE ---- */

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, __u64)
#endif

#endif /* HOTCLONE_UAPI_H */
