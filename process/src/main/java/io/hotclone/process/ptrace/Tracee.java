package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.iovec;
import io.hotclone.bindings.linux.ptrace_peeksiginfo_args;
import io.hotclone.bindings.linux.ptrace_rseq_configuration;
import io.hotclone.bindings.linux.ptrace_syscall_info;
import io.hotclone.bindings.linux.siginfo_t;
import io.hotclone.bindings.linux.user_regs_struct;
import io.hotclone.process.RobustList;
import io.hotclone.process.RseqState;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static io.hotclone.bindings.linux.Errno.ECHILD;
import static io.hotclone.bindings.linux.Errno.ESRCH;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_get_robust_list;
import static io.hotclone.bindings.linux.Ptrace.*;
import static io.hotclone.bindings.linux.Wait.WNOHANG;
import static io.hotclone.bindings.linux.Wait.__WALL;
import static io.hotclone.bindings.linux.Wait.__WNOTHREAD;
import static java.lang.foreign.MemorySegment.NULL;

/**
 * One thread under ptrace, seized by the calling thread.
 *
 * <p>Thread confinement: ptrace belongs to the thread that seized. Every method must be called
 * from that one platform thread (the program's tracer thread); the kernel refuses the others
 * with ESRCH.
 */
public final class Tracee implements AutoCloseable {
    /** Large enough for any xsave area of x86_64 today (AMX tiles make it ~11 KiB). */
    private static final int XSTATE_MAX = 16 * 1024;
    private static final int SIGINFO_SIZE = 128;

    private final int tid;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment callState = arena.allocate(Libc.callStateLayout());
    private final MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment iov = iovec.allocate(arena);
    private final MemorySegment xstateBuffer = arena.allocate(XSTATE_MAX, 64);
    private final MemorySegment word = arena.allocate(ValueLayout.JAVA_LONG);
    private boolean attached;

    private Tracee(int tid) {
        this.tid = tid;
    }

    /**
     * PTRACE_SEIZE: attaches without stopping. The caller then interrupts and waits.
     *
     * @param options PTRACE_O_* options
     */
    public static Tracee seize(int tid, long options) {
        Tracee t = new Tracee(tid);
        try {
            t.ptrace(PTRACE_SEIZE, NULL, MemorySegment.ofAddress(options), "PTRACE_SEIZE");
        } catch (SyscallException e) {
            t.arena.close();
            if (e.errno() == ESRCH) {
                throw new HotcloneException("process " + tid + " does not exist", e);
            }
            throw new HotcloneException("cannot trace process " + tid + ": " + e.getMessage()
                    + " (is it already traced by a debugger or another hotclone? hotclone needs"
                    + " root or CAP_SYS_PTRACE)", e);
        }
        t.attached = true;
        return t;
    }

    /**
     * A thread this tracer traces already: the child a traced thread forked with
     * PTRACE_O_TRACEFORK set, attached by the kernel at its birth.
     */
    public static Tracee autoAttached(int tid) {
        Tracee t = new Tracee(tid);
        t.attached = true;
        return t;
    }

    public int tid() {
        return tid;
    }

    /** PTRACE_GETEVENTMSG: after a fork event stop, the new child's pid. */
    public long eventMessage() {
        ptrace(PTRACE_GETEVENTMSG, NULL, word, "PTRACE_GETEVENTMSG");
        return word.get(ValueLayout.JAVA_LONG, 0);
    }

    public void interrupt() {
        ptrace(PTRACE_INTERRUPT, NULL, NULL, "PTRACE_INTERRUPT");
    }

    /** Resumes; {@code signal} is delivered (0: none). */
    public void cont(int signal) {
        ptrace(PTRACE_CONT, NULL, MemorySegment.ofAddress(signal), "PTRACE_CONT");
    }

    /** Resumes until the next syscall entry or exit. */
    public void syscall(int signal) {
        ptrace(PTRACE_SYSCALL, NULL, MemorySegment.ofAddress(signal), "PTRACE_SYSCALL");
    }

    /** Resumes for one instruction: the thread stops with SIGTRAP after it (after the whole call, for a syscall instruction). */
    public void singleStep() {
        ptrace(PTRACE_SINGLESTEP, NULL, NULL, "PTRACE_SINGLESTEP");
    }

    /** Lets the thread go; it runs on with {@code signal} delivered (0: none). */
    public void detach(int signal) {
        ptrace(PTRACE_DETACH, NULL, MemorySegment.ofAddress(signal), "PTRACE_DETACH");
        attached = false;
    }

    /**
     * Lets a thread other than its process's leader go, like {@link #detach}; one killed
     * meanwhile (its process exits) is reaped instead: its end is reported to this tracer only,
     * and its process cannot be reaped by its parent until the tracer has collected it. (The
     * leader's end is its process's exit status: its parent collects it.)
     */
    public void release() {
        try {
            detach(0);
        } catch (SyscallException e) {
            if (e.errno() != ESRCH) {
                throw e;
            }
            attached = false;
            try {
                while (!await().gone()) {
                    // a stop reported before the kill landed: its end follows
                }
            } catch (SyscallException reaped) {
                // ECHILD: collected already
            }
        }
    }

    /** Waits for the next stop or the end of this thread. */
    public WaitStatus await() {
        return waitpid(__WALL, "__WALL");
    }

    /** The next stop or the end of this thread if one is waiting to be reported, else null. */
    public WaitStatus poll() {
        return waitpid(__WALL | WNOHANG, "__WALL | WNOHANG");
    }

    /**
     * The next stop or end of this thread, which is making a system call that makes a task (a
     * fork or clone, whose child is attached to this tracer): meanwhile the tracer collects what
     * its other tasks report ({@link Reaped} keeps it for their own waits). A process killed in
     * such a call may be the init of its pid namespace: it then waits, before it ends, for its
     * new child to be reaped, which only this tracer can do.
     */
    public WaitStatus awaitSpawning() {
        while (true) {
            int r = Libc.waitpid(callState, -1, status, __WALL | __WNOTHREAD);
            if (r < 0) {
                int errno = Libc.errno(callState);
                if (errno == io.hotclone.bindings.linux.Errno.EINTR) {
                    continue;
                }
                if (errno == ECHILD) {
                    return await(); // another wait collected its end
                }
                throw new SyscallException("waitpid(-1, __WALL | __WNOTHREAD) for " + tid, errno);
            }
            WaitStatus s = new WaitStatus(r, status.get(ValueLayout.JAVA_INT, 0));
            if (s.gone()) {
                Reaped.collected(s);
            }
            if (r == tid) {
                return s;
            }
            if (!s.gone()) {
                Reaped.stopped(s);
            }
        }
    }

    /** waitpid(2) for this thread, again after EINTR; null when WNOHANG found nothing to report. */
    private WaitStatus waitpid(int options, String named) {
        java.util.Optional<WaitStatus> early = Reaped.takeStop(tid);
        if (early.isPresent()) {
            return early.get();
        }
        while (true) {
            int r = Libc.waitpid(callState, tid, status, options);
            if (r > 0) {
                WaitStatus s = new WaitStatus(r, status.get(ValueLayout.JAVA_INT, 0));
                if (s.gone()) {
                    Reaped.collected(s);
                }
                return s;
            }
            if (r == 0) {
                return null;
            }
            int errno = Libc.errno(callState);
            if (errno == ECHILD) {
                // Another of hotclone's waits collected the end first: it is this wait's answer too.
                return Reaped.take(tid).orElseThrow(() -> new SyscallException("waitpid(" + tid + ", " + named + ")",
                        errno));
            }
            if (errno != io.hotclone.bindings.linux.Errno.EINTR) {
                throw new SyscallException("waitpid(" + tid + ", " + named + ")", errno);
            }
        }
    }

    /**
     * Waits until the thread is in a ptrace stop the tracer can work in (an interrupt stop),
     * delivering signals that arrive first so none is lost.
     */
    public WaitStatus awaitInterruptStop() {
        while (true) {
            WaitStatus s = await();
            if (s.gone()) {
                throw new ProcessGoneException(s, "stopping it");
            }
            if (s.interruptStop()) {
                return s;
            }
            cont(s.signalDeliveryStop() ? s.stopSignal() : 0);
        }
    }

    /** PTRACE_SETOPTIONS: replaces the PTRACE_O_* options given at seize. */
    public void setOptions(long options) {
        ptrace(PTRACE_SETOPTIONS, NULL, MemorySegment.ofAddress(options), "PTRACE_SETOPTIONS");
    }

    /** Leaves a thread in a group stop there, still reporting what happens to it (PTRACE_LISTEN). */
    public void listen() {
        ptrace(PTRACE_LISTEN, NULL, NULL, "PTRACE_LISTEN");
    }

    /** The signal of the signal-delivery stop the thread is in (PTRACE_GETSIGINFO). */
    public Siginfo siginfo() {
        MemorySegment info = xstateBuffer.asSlice(0, siginfo_t.sizeof());
        ptrace(PTRACE_GETSIGINFO, NULL, info, "PTRACE_GETSIGINFO");
        return new Siginfo(siginfo_t.si_signo(info), siginfo_t.si_code(info), siginfo_t.si_pid(info),
                siginfo_t.si_addr(info).address(), WakeUp.is(info));
    }

    /** The system call of the syscall stop the thread is in (PTRACE_GET_SYSCALL_INFO, Linux 5.3). */
    public SyscallStop syscallStop() {
        MemorySegment info = xstateBuffer.asSlice(0, ptrace_syscall_info.sizeof());
        ptrace(PTRACE_GET_SYSCALL_INFO, MemorySegment.ofAddress(info.byteSize()), info, "PTRACE_GET_SYSCALL_INFO");
        byte op = ptrace_syscall_info.op(info);
        boolean native64 = ptrace_syscall_info.arch(info) == (int) AUDIT_ARCH_X86_64;
        if (op == PTRACE_SYSCALL_INFO_ENTRY) {
            return new SyscallStop(true, native64, ptrace_syscall_info.nr(info),
                    ptrace_syscall_info.args(info).toArray(ValueLayout.JAVA_LONG), 0);
        }
        return new SyscallStop(false, native64, -1, null, op == PTRACE_SYSCALL_INFO_EXIT ? ptrace_syscall_info.rval(info) : 0);
    }

    /** PTRACE_GETREGS into {@code regs} (a user_regs_struct). */
    public void getRegs(MemorySegment regs) {
        ptrace(PTRACE_GETREGS, NULL, regs, "PTRACE_GETREGS");
    }

    public void setRegs(MemorySegment regs) {
        ptrace(PTRACE_SETREGS, NULL, regs, "PTRACE_SETREGS");
    }

    public MemorySegment newRegs(Arena owner) {
        return user_regs_struct.allocate(owner);
    }

    /** The NT_X86_XSTATE regset: FPU, SSE, AVX and every other xsave component. */
    public byte[] xstate() {
        iovec.iov_base(iov, xstateBuffer);
        iovec.iov_len(iov, XSTATE_MAX);
        ptrace(PTRACE_GETREGSET, MemorySegment.ofAddress(NT_X86_XSTATE), iov, "PTRACE_GETREGSET NT_X86_XSTATE");
        return xstateBuffer.asSlice(0, iovec.iov_len(iov)).toArray(ValueLayout.JAVA_BYTE);
    }

    public void setXstate(byte[] xstate) {
        MemorySegment.copy(xstate, 0, xstateBuffer, ValueLayout.JAVA_BYTE, 0, xstate.length);
        iovec.iov_base(iov, xstateBuffer);
        iovec.iov_len(iov, xstate.length);
        ptrace(PTRACE_SETREGSET, MemorySegment.ofAddress(NT_X86_XSTATE), iov, "PTRACE_SETREGSET NT_X86_XSTATE");
    }

    /** The blocked signal mask (bit n-1 for signal n). */
    public long sigmask() {
        ptrace(PTRACE_GETSIGMASK, MemorySegment.ofAddress(8), word, "PTRACE_GETSIGMASK");
        return word.get(ValueLayout.JAVA_LONG, 0);
    }

    public void setSigmask(long mask) {
        word.set(ValueLayout.JAVA_LONG, 0, mask);
        ptrace(PTRACE_SETSIGMASK, MemorySegment.ofAddress(8), word, "PTRACE_SETSIGMASK");
    }

    /**
     * Pending signals with their siginfo, without dequeuing them; this hotclone's own wake-up
     * ({@link WakeUp}) left out, which is no signal of the program's.
     *
     * @param shared the process-wide queue (else this thread's own)
     */
    public List<byte[]> pendingSignals(boolean shared) {
        List<byte[]> pending = new ArrayList<>();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment args = ptrace_peeksiginfo_args.allocate(local);
            int batch = 32;
            MemorySegment infos = local.allocate((long) batch * SIGINFO_SIZE, 8);
            for (long read = 0; ; ) {
                ptrace_peeksiginfo_args.off(args, read);
                ptrace_peeksiginfo_args.flags(args, shared ? PTRACE_PEEKSIGINFO_SHARED : 0);
                ptrace_peeksiginfo_args.nr(args, batch);
                long n = ptrace(PTRACE_PEEKSIGINFO, args, infos, "PTRACE_PEEKSIGINFO");
                for (int i = 0; i < n; i++) {
                    MemorySegment info = infos.asSlice((long) i * SIGINFO_SIZE, SIGINFO_SIZE);
                    if (!WakeUp.is(info)) {
                        pending.add(info.toArray(ValueLayout.JAVA_BYTE));
                    }
                }
                read += n;
                if (n < batch) {
                    return pending;
                }
            }
        }
    }

    /** The rseq registration, or null when the thread has none. */
    public RseqState rseq() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment conf = ptrace_rseq_configuration.allocate(local);
            ptrace(PTRACE_GET_RSEQ_CONFIGURATION, MemorySegment.ofAddress(conf.byteSize()), conf,
                    "PTRACE_GET_RSEQ_CONFIGURATION");
            long address = ptrace_rseq_configuration.rseq_abi_pointer(conf);
            if (address == 0) {
                return null;
            }
            return new RseqState(address, ptrace_rseq_configuration.rseq_abi_size(conf),
                    ptrace_rseq_configuration.flags(conf), ptrace_rseq_configuration.signature(conf));
        }
    }

    /** The robust futex list registration (get_robust_list(2)), or null when the thread has none. */
    public RobustList robustList() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment head = local.allocate(ValueLayout.JAVA_LONG);
            MemorySegment length = local.allocate(ValueLayout.JAVA_LONG);
            if (Libc.syscall(callState, SYS_get_robust_list, tid, head.address(), length.address(), 0, 0, 0) != 0) {
                throw new SyscallException("get_robust_list(" + tid + ")", Libc.errno(callState));
            }
            long address = head.get(ValueLayout.JAVA_LONG, 0);
            return address == 0 ? null : new RobustList(address, length.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    private long ptrace(int request, MemorySegment addr, MemorySegment data, String name) {
        long r = Libc.ptrace(callState, request, tid, addr, data);
        if (r == -1) {
            throw new SyscallException("ptrace(" + name + ", pid=" + tid + ")", Libc.errno(callState));
        }
        return r;
    }

    /** Frees the buffers of a thread that is gone: nothing is left to detach. */
    void forget() {
        attached = false;
        freeBuffers();
    }

    /** Detaches if still attached (an abort path), then frees the buffers; once forgotten, does nothing. */
    @Override
    public void close() {
        if (attached) {
            try {
                detach(0);
            } catch (SyscallException ignored) {
                // The thread is gone or not stopped; nothing is left to let go.
            }
        }
        freeBuffers();
    }

    private void freeBuffers() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
