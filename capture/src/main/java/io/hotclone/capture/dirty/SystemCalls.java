package io.hotclone.capture.dirty;

import io.hotclone.process.ptrace.RemoteMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Mman.MADV_DONTNEED;
import static io.hotclone.bindings.linux.Mman.MADV_FREE;
import static io.hotclone.bindings.linux.Mman.MADV_REMOVE;
import static io.hotclone.bindings.linux.Signal.SS_DISABLE;
import static io.hotclone.bindings.linux.SyscallsAmd64.*;

/**
 * What the x86-64 system calls of a program do to its memory, as {@link MprotectTracker}
 * must know it: the buffers a call will write (opened before it runs, so that the kernel does
 * not find them protected), the calls that fork (the child must not inherit hotclone's
 * protections) and the calls that change mappings (hotclone no longer answers for them).
 *
 * <p>The buffers listed are those of the calls that consume something as they write it (data
 * read from a pipe or socket, a reaped child, a dequeued signal): failing with EFAULT there
 * would lose it. Any other call that fails with EFAULT on a protected page is run again once
 * the areas its arguments point into are opened ({@link SyscallFollower}).
 */
public final class SystemCalls {
    private static final long SOCKADDR = 128;
    private static final long SIGINFO = 128;
    private static final long RUSAGE = 144;
    private static final long EPOLL_EVENT = 12;
    private static final long MSGHDR = 56;
    private static final long MMSGHDR = 64;
    private static final long STAT = 144;
    private static final long STATX = 256;
    private static final long TIMESPEC = 16;
    private static final long UTSNAME = 390;
    private static final long SIGACTION = 32;
    private static final long STACK = 24;
    private static final int MAX_VECTORS = 1024;
    /** MADV_DONTNEED_LOCKED (Linux 5.18), not in every libc's headers yet. */
    private static final int MADV_DONTNEED_LOCKED = 24;

    private SystemCalls() {
    }

    /** Whether call {@code nr} makes a process or thread that shares or copies the address space. */
    public static boolean forks(long nr) {
        return nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone || nr == SYS_clone3;
    }

    /**
     * The memory call {@code nr} with arguments {@code a} is about to write, read at its entry;
     * {@code memory} reads the vectors and message headers that point to more.
     */
    public static List<PageRange> buffers(long nr, long[] a, RemoteMemory memory) {
        List<PageRange> out = new ArrayList<>();
        int n = (int) nr;
        switch (n) {
            case SYS_read, SYS_pread64 -> add(out, a[1], a[2]);
            case SYS_readv, SYS_preadv, SYS_preadv2, SYS_process_vm_readv -> vectors(out, a[1], a[2], memory);
            case SYS_recvfrom -> {
                add(out, a[1], a[2]);
                add(out, a[4], SOCKADDR);
                add(out, a[5], 4);
            }
            case SYS_recvmsg -> message(out, a[1], memory);
            case SYS_recvmmsg -> {
                for (long i = 0; i < Math.min(a[2], MAX_VECTORS); i++) {
                    message(out, a[1] + i * MMSGHDR, memory);
                    add(out, a[1] + i * MMSGHDR + MSGHDR, 4);
                }
            }
            case SYS_accept, SYS_accept4 -> {
                add(out, a[1], SOCKADDR);
                add(out, a[2], 4);
            }
            case SYS_wait4 -> {
                add(out, a[1], 4);
                add(out, a[3], RUSAGE);
            }
            case SYS_waitid -> {
                add(out, a[2], SIGINFO);
                add(out, a[4], RUSAGE);
            }
            case SYS_pipe, SYS_pipe2 -> add(out, a[0], 8);
            case SYS_socketpair -> add(out, a[3], 8);
            case SYS_epoll_wait, SYS_epoll_pwait, SYS_epoll_pwait2 -> add(out, a[1], a[2] * EPOLL_EVENT);
            case SYS_getrandom, SYS_getcwd -> add(out, a[0], a[1]);
            case SYS_readlink, SYS_getdents64 -> add(out, a[1], a[2]);
            case SYS_readlinkat -> add(out, a[2], a[3]);
            case SYS_msgrcv -> add(out, a[1], a[2] + 8);
            case SYS_rt_sigtimedwait -> add(out, a[1], SIGINFO);
            case SYS_mq_timedreceive -> {
                add(out, a[1], a[2]);
                add(out, a[3], 4);
            }
            // Calls that consume nothing, listed so that only their buffer is opened, not its whole area.
            case SYS_stat, SYS_fstat, SYS_lstat -> add(out, a[1], STAT);
            case SYS_newfstatat -> add(out, a[2], STAT);
            case SYS_statx -> add(out, a[4], STATX);
            case SYS_clock_gettime, SYS_clock_getres -> add(out, a[1], TIMESPEC);
            case SYS_gettimeofday -> add(out, a[0], TIMESPEC);
            case SYS_nanosleep -> add(out, a[1], TIMESPEC);
            case SYS_clock_nanosleep -> add(out, a[3], TIMESPEC);
            case SYS_uname -> add(out, a[0], UTSNAME);
            case SYS_getrusage -> add(out, a[1], RUSAGE);
            case SYS_rt_sigaction -> add(out, a[2], SIGACTION);
            case SYS_rt_sigprocmask -> add(out, a[2], 8);
            case SYS_sigaltstack -> {
                add(out, a[1], STACK);
                signalStack(out, a[0], memory); // written by every signal delivered on it from now on
            }
            case SYS_rseq -> add(out, a[0], a[1]); // written by the kernel whenever the thread resumes
            case SYS_prlimit64 -> add(out, a[3], 16);
            case SYS_getsockname, SYS_getpeername -> {
                add(out, a[1], SOCKADDR);
                add(out, a[2], 4);
            }
            case SYS_poll, SYS_ppoll -> add(out, a[0], a[1] * 8);
            default -> {
            }
        }
        return out;
    }

    /**
     * Tells {@code tracker} what call {@code nr} with arguments {@code a} did to the mappings,
     * now that it returned {@code result} successfully.
     */
    static void returned(long nr, long[] a, long result, SyscallFollower tracker) {
        int n = (int) nr;
        switch (n) {
            case SYS_mmap -> tracker.forget(result, result + pageUp(a[1]));
            case SYS_mprotect, SYS_pkey_mprotect, SYS_munmap -> tracker.forget(a[0], a[0] + pageUp(a[1]));
            case SYS_mremap -> tracker.moved(a[0], pageUp(a[1]), result, pageUp(a[2]));
            case SYS_brk -> tracker.breakMoved(pageUp(result));
            case SYS_madvise -> {
                long advice = a[2];
                if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE
                        || advice == MADV_DONTNEED_LOCKED) {
                    tracker.discarded(a[0], a[0] + pageUp(a[1]));
                }
            }
            case SYS_execve, SYS_execveat -> tracker.replaced();
            default -> {
            }
        }
    }

    private static long pageUp(long length) {
        return (length + PageRange.PAGE - 1) & -PageRange.PAGE;
    }

    private static void add(List<PageRange> out, long address, long length) {
        if (address == 0 || length <= 0 || address + length < address) {
            return;
        }
        out.add(new PageRange(address & -PageRange.PAGE, pageUp(address + length)));
    }

    /** Adds the buffers of the {@code count} struct iovec at {@code iov}. */
    private static void vectors(List<PageRange> out, long iov, long count, RemoteMemory memory) {
        if (iov == 0 || count <= 0) {
            return;
        }
        int n = (int) Math.min(count, MAX_VECTORS);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment v = local.allocate(16L * n, 8);
            memory.read(iov, v);
            for (int i = 0; i < n; i++) {
                add(out, v.get(ValueLayout.JAVA_LONG, 16L * i), v.get(ValueLayout.JAVA_LONG, 16L * i + 8));
            }
        } catch (RuntimeException unreadable) {
            // The kernel will fail the call with EFAULT as well, and its arguments decide then.
        }
    }

    /** Adds the stack a struct stack_t at {@code ss} describes, unless it disables the signal stack. */
    private static void signalStack(List<PageRange> out, long ss, RemoteMemory memory) {
        if (ss == 0) {
            return;
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment s = local.allocate(STACK, 8);
            memory.read(ss, s);
            if ((s.get(ValueLayout.JAVA_INT, 8) & SS_DISABLE) == 0) {
                add(out, s.get(ValueLayout.JAVA_LONG, 0), s.get(ValueLayout.JAVA_LONG, 16));
            }
        } catch (RuntimeException unreadable) {
            // The call fails with EFAULT by itself.
        }
    }

    /** Adds the struct msghdr at {@code msg} and what it points to: name, vectors, control data. */
    private static void message(List<PageRange> out, long msg, RemoteMemory memory) {
        if (msg == 0) {
            return;
        }
        add(out, msg, MSGHDR);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment h = local.allocate(MSGHDR, 8);
            memory.read(msg, h);
            add(out, h.get(ValueLayout.JAVA_LONG, 0), h.get(ValueLayout.JAVA_INT, 8));
            vectors(out, h.get(ValueLayout.JAVA_LONG, 16), h.get(ValueLayout.JAVA_LONG, 24), memory);
            add(out, h.get(ValueLayout.JAVA_LONG, 32), h.get(ValueLayout.JAVA_LONG, 40));
        } catch (RuntimeException unreadable) {
            // As above: the call fails with EFAULT by itself.
        }
    }
}
