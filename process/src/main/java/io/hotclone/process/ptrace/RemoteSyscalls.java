package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Errno;
import io.hotclone.bindings.linux.user_regs_struct;
import io.hotclone.process.proc.MapsEntry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Function;

import static io.hotclone.bindings.linux.Mman.MAP_ANONYMOUS;
import static io.hotclone.bindings.linux.Mman.MAP_FIXED_NOREPLACE;
import static io.hotclone.bindings.linux.Mman.MAP_PRIVATE;
import static io.hotclone.bindings.linux.Mman.PROT_READ;
import static io.hotclone.bindings.linux.Mman.PROT_WRITE;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_CLONE;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_EVENT_FORK;
import static io.hotclone.bindings.linux.Signal.SIGSTOP;
import static io.hotclone.bindings.linux.Signal.SIGTRAP;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_mmap;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_munmap;

/**
 * System calls made by a traced thread on hotclone's behalf: prepare, infect, call, cure.
 *
 * <p>Infect saves the thread's registers and signal mask, blocks every signal (so that no
 * signal stop interleaves with the calls; blocked signals stay pending), finds a {@code syscall}
 * instruction in the vDSO (so no byte of the program is modified), and maps a scratch page for
 * arguments. Each call points rip at that instruction, loads rax and the six argument registers
 * and steps through the syscall-entry and syscall-exit stops. Cure unmaps the scratch page and
 * installs the final registers and mask; {@link #close()} cures with the saved ones if nobody did.
 *
 * <p>Thread confinement: the tracer thread of the tracee.
 */
public final class RemoteSyscalls implements AutoCloseable {
    public static final long SCRATCH_SIZE = 64 * 1024;
    /** The scratch a capture needs (a sigaction, a sigaltstack): small enough to borrow from the stack. */
    public static final long STACK_SCRATCH_SIZE = 4096;
    /** A sibling's share of the scratch area: room for what a thread's own calls read back (a stack_t, an address). */
    public static final long SLOT_SIZE = 64;
    /** The x86-64 ABI lets a function use 128 bytes below its stack pointer without moving it. */
    private static final long RED_ZONE = 128;

    private final Tracee tracee;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment saved;
    private final MemorySegment work;
    private final long savedMask;
    private final RemoteMemory memory;
    private long gadget;
    private long scratch;
    private long scratchSize;
    // The stack bytes the scratch borrowed, written back by cure; null for an mmap'd scratch.
    private byte[] borrowed;
    /** Whether the scratch is another thread's ({@link #sibling}), which gives it back. */
    private boolean sharedScratch;
    private boolean cured;
    /** A SIGSTOP someone sent the thread arrived during a call: it is sent again once cured. */
    private boolean stopDeferred;

    private RemoteSyscalls(Tracee tracee, long gadget) {
        this.tracee = tracee;
        this.saved = tracee.newRegs(arena);
        this.work = tracee.newRegs(arena);
        tracee.getRegs(saved);
        this.savedMask = tracee.sigmask();
        this.gadget = gadget;
        this.memory = new RemoteMemory(tracee.tid());
    }

    /**
     * Takes over a thread stopped in an interrupt stop or a syscall-exit stop.
     *
     * @param maps           the thread's current mappings (to find the vDSO)
     * @param scratchAddress where to map the scratch area (0: anywhere the kernel likes)
     */
    public static RemoteSyscalls infect(Tracee tracee, List<MapsEntry> maps, long scratchAddress) {
        RemoteSyscalls r = prepare(tracee, maps);
        try {
            r.mapScratch(scratchAddress);
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /**
     * Takes over a thread for a capture, whose scratch ({@link #STACK_SCRATCH_SIZE} bytes) is
     * borrowed from the thread's stack below the red zone and given back by {@link #cure}: two
     * injected calls (mmap, munmap) fewer under the freeze, ~1 ms here. The bytes there are dead
     * by the ABI, and the thread is stopped with every signal blocked, so nothing reads them
     * meanwhile. Falls back to an mmap'd scratch when the stack pointer is not in a private
     * writable mapping with room below it.
     */
    public static RemoteSyscalls infectForCapture(Tracee tracee, List<MapsEntry> maps) {
        RemoteSyscalls r = prepare(tracee, maps);
        try {
            long sp = user_regs_struct.rsp(r.saved);
            long low = (sp - RED_ZONE - STACK_SCRATCH_SIZE) & -64L;
            boolean room = maps.stream().anyMatch(m -> m.write() && !m.shared() && m.start() <= low && sp <= m.end());
            if (room && sp > RED_ZONE + STACK_SCRATCH_SIZE) {
                try (Arena local = Arena.ofConfined()) {
                    MemorySegment bytes = local.allocate(STACK_SCRATCH_SIZE);
                    r.memory.read(low, bytes);
                    r.borrowed = bytes.toArray(ValueLayout.JAVA_BYTE);
                }
                r.scratch = low;
                r.scratchSize = STACK_SCRATCH_SIZE;
            } else {
                r.mapScratch(0);
            }
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    private static RemoteSyscalls prepare(Tracee tracee, List<MapsEntry> maps) {
        MapsEntry vdso = maps.stream().filter(m -> m.name().equals("[vdso]")).findFirst()
                .orElseThrow(() -> new HotcloneException("process " + tracee.tid()
                        + " has no [vdso] mapping: hotclone needs the vDSO to run system calls in it"));
        return borrow(tracee, findSyscallInstruction(tracee.tid(), vdso));
    }

    /**
     * Takes over a thread stopped in an interrupt, syscall-exit or signal-delivery stop (whose
     * signal is then discarded), without scratch, to run calls through {@code gadget}, a syscall
     * instruction found by an earlier infection ({@link #gadget()}): a few ptrace requests only.
     */
    public static RemoteSyscalls borrow(Tracee tracee, long gadget) {
        RemoteSyscalls r = new RemoteSyscalls(tracee, gadget);
        try {
            tracee.setSigmask(-1L);
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /**
     * Takes over {@code child}, a process this thread just forked (stopped at its birth), for
     * calls through the same gadget and its own copy of the scratch area, which it unmaps when
     * cured.
     */
    public RemoteSyscalls inheritedBy(Tracee child) {
        RemoteSyscalls r = borrow(child, gadget);
        r.scratch = scratch;
        r.scratchSize = scratchSize;
        return r;
    }

    /**
     * Takes over {@code thread}, another stopped thread of the same process, for calls through
     * this one's syscall instruction and scratch area (the address space is one): calls in the
     * two must not overlap, and this one gives the scratch back when cured.
     */
    public RemoteSyscalls sibling(Tracee thread) {
        return sibling(thread, 0, scratchSize);
    }

    /**
     * As {@link #sibling(Tracee)}, with a slot of its own in the scratch area, the
     * {@code slot}-th of {@link #SLOT_SIZE} bytes: siblings of distinct slots may make their
     * calls at once ({@link #callEach}). {@link #slots()} slots fit.
     */
    public RemoteSyscalls sibling(Tracee thread, int slot) {
        if (slot < 0 || slot >= slots()) {
            throw new IllegalArgumentException("scratch slot " + slot + " of " + slots());
        }
        return sibling(thread, slot * SLOT_SIZE, SLOT_SIZE);
    }

    private RemoteSyscalls sibling(Tracee thread, long offset, long size) {
        RemoteSyscalls r = borrow(thread, gadget);
        r.scratch = scratch + offset;
        r.scratchSize = size;
        r.sharedScratch = true;
        return r;
    }

    /** How many siblings' slots the scratch area holds. */
    public int slots() {
        return (int) (scratchSize / SLOT_SIZE);
    }

    private void mapScratch(long address) {
        int fixed = address != 0 ? MAP_FIXED_NOREPLACE : 0;
        scratch = check("mmap(scratch)", SYS_mmap, address, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0);
        scratchSize = SCRATCH_SIZE;
    }

    private static long findSyscallInstruction(int pid, MapsEntry vdso) {
        try (Arena local = Arena.ofConfined(); RemoteMemory memory = new RemoteMemory(pid)) {
            MemorySegment text = local.allocate(vdso.length());
            memory.read(vdso.start(), text);
            for (long i = 0; i + 1 < text.byteSize(); i++) {
                if (text.get(ValueLayout.JAVA_BYTE, i) == 0x0f && text.get(ValueLayout.JAVA_BYTE, i + 1) == 0x05) {
                    return vdso.start() + i;
                }
            }
        }
        throw new HotcloneException("no syscall instruction in the vDSO of process " + pid);
    }

    public Tracee tracee() {
        return tracee;
    }

    /** The address of the syscall instruction the calls go through. */
    public long gadget() {
        return gadget;
    }

    /** The registers the thread had when infected. */
    public MemorySegment savedRegisters() {
        return saved;
    }

    public long savedSigmask() {
        return savedMask;
    }

    /** Address of the scratch area in the thread's address space, {@link #SCRATCH_SIZE} bytes
     *  ({@link #STACK_SCRATCH_SIZE} after {@link #infectForCapture}). */
    public long scratch() {
        return scratch;
    }

    public RemoteMemory memory() {
        return memory;
    }

    /** The vDSO moved by {@code delta} bytes (mremap): the syscall instruction moved with it. */
    public void vdsoMoved(long delta) {
        gadget += delta;
    }

    /** Copies {@code data} to the scratch area at {@code offset}; returns its remote address. */
    public long put(long offset, MemorySegment data) {
        if (offset + data.byteSize() > scratchSize) {
            throw new IllegalArgumentException("scratch overflow: " + (offset + data.byteSize()));
        }
        memory.write(scratch + offset, data);
        return scratch + offset;
    }

    /** Copies a NUL-terminated string to the scratch area at {@code offset}. */
    public long putString(long offset, String s) {
        try (Arena local = Arena.ofConfined()) {
            return put(offset, local.allocateFrom(s));
        }
    }

    /**
     * Runs one system call in the thread; returns rax as the kernel left it (-errno on failure).
     * The thread single-steps over the gadget's syscall instruction: one stop, after the call,
     * where stopping at its entry and exit would take two (each a round trip through the
     * scheduler, the most of an injected call's cost).
     */
    public long call(int nr, long... args) {
        load(nr, args);
        tracee.singleStep();
        return awaitCall(nr);
    }

    /**
     * Runs system call {@code nr} in each of {@code threads} at once, with the arguments
     * {@code args} gives each: every thread is set off before any is waited for, so that their
     * trips through the scheduler overlap and N calls cost about one. Returns each one's rax.
     */
    public static long[] callEach(List<RemoteSyscalls> threads, int nr, Function<RemoteSyscalls, long[]> args) {
        for (RemoteSyscalls r : threads) {
            r.load(nr, args.apply(r));
            r.tracee.singleStep();
        }
        long[] results = new long[threads.size()];
        RuntimeException failed = null;
        for (int i = 0; i < results.length; i++) {
            try {
                results[i] = threads.get(i).awaitCall(nr);
            } catch (RuntimeException e) {
                // The others are still brought back to a stop, where cure can give them their registers.
                if (failed == null) {
                    failed = e;
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        return results;
    }

    /** As {@link #callEach}, but throws, naming {@code what} and the thread, when a call fails. */
    public static long[] checkEach(List<RemoteSyscalls> threads, String what, int nr,
                                   Function<RemoteSyscalls, long[]> args) {
        long[] results = callEach(threads, nr, args);
        for (int i = 0; i < results.length; i++) {
            if (results[i] < 0 && results[i] > -4096) {
                throw new SyscallException(what + " in thread " + threads.get(i).tracee.tid(), (int) -results[i]);
            }
        }
        return results;
    }

    /** Waits for the trap after the call a {@link #load}ed thread was set off to make; returns rax. */
    private long awaitCall(int nr) {
        WaitStatus s = tracee.await();
        while ((s.signalDeliveryStop() && s.stopSignal() == SIGSTOP) || (s.interruptStop() && s.stopSignal() == SIGTRAP)) {
            // An interrupt stop is a PTRACE_INTERRUPT made before the call: spent either way (any
            // ptrace stop clears a pending one), its tracer asks again after the call. A SIGSTOP, the
            // one signal blocking cannot hold off, is discarded now and sent again by close(), unless
            // hotclone sent it (to wake its tracer, which asks what woke it anyway).
            if (!s.interruptStop()) {
                stopDeferred |= !tracee.siginfo().wakeUp();
            }
            tracee.singleStep();
            s = tracee.await();
        }
        if (s.gone()) {
            throw new ProcessGoneException(s, "running injected syscall " + nr);
        }
        if (!s.stopped() || s.stopSignal() != SIGTRAP || s.event() != 0) {
            throw new HotcloneException("process " + tracee.tid() + " " + s + " instead of the trap after injected"
                    + " syscall " + nr);
        }
        tracee.getRegs(work);
        return user_regs_struct.rax(work);
    }

    /** Sets the thread's registers to enter system call {@code nr} at the gadget. */
    private void load(int nr, long... args) {
        MemorySegment.copy(saved, 0, work, 0, saved.byteSize());
        user_regs_struct.rip(work, gadget);
        user_regs_struct.rax(work, nr);
        user_regs_struct.orig_rax(work, -1);
        long[] a = new long[6];
        System.arraycopy(args, 0, a, 0, args.length);
        user_regs_struct.rdi(work, a[0]);
        user_regs_struct.rsi(work, a[1]);
        user_regs_struct.rdx(work, a[2]);
        user_regs_struct.r10(work, a[3]);
        user_regs_struct.r8(work, a[4]);
        user_regs_struct.r9(work, a[5]);
        tracee.setRegs(work);
    }

    /**
     * Runs a fork-like system call in a thread traced with PTRACE_O_TRACEFORK and returns the
     * child's pid: the kernel stops the thread at the fork event between the call's entry and
     * exit, and attaches the child to this tracer.
     */
    public int callForking(String what, int nr, long... args) {
        return callSpawning(PTRACE_EVENT_FORK, what, nr, args);
    }

    /**
     * Runs a call that ptrace reports as a clone (a new thread, CLONE_THREAD, or a process whose
     * exit signal is not SIGCHLD) in a thread traced with PTRACE_O_TRACECLONE, and returns the
     * new task's id (as this tracer sees it), attached to this tracer at its birth.
     */
    public int callCloning(String what, int nr, long... args) {
        return callSpawning(PTRACE_EVENT_CLONE, what, nr, args);
    }

    private int callSpawning(int event, String what, int nr, long... args) {
        load(nr, args);
        step(nr, "entry");
        tracee.syscall(0);
        WaitStatus s = tracee.awaitSpawning();
        if (s.gone()) {
            throw new ProcessGoneException(s, "running injected " + what);
        }
        if (!s.stopped() || s.event() != event) {
            tracee.getRegs(work);
            throw new SyscallException(what + " in process " + tracee.tid() + " (" + s + " instead of its event)",
                    (int) -user_regs_struct.rax(work));
        }
        int child = (int) tracee.eventMessage();
        step(nr, "exit");
        return child;
    }

    /**
     * Lets the thread go into system call {@code nr}, one it does not come back from (exit_group,
     * or a kill of itself by a signal {@code mask} does not block), untraced: the thread is
     * detached at the call and this is spent.
     */
    public void detachInto(long mask, int nr, long... args) {
        cured = true;
        scratch = 0;
        load(nr, args);
        tracee.setSigmask(mask);
        tracee.detach(0);
    }

    /** Like {@link #call} but throws, naming {@code what}, when the call fails. */
    public long check(String what, int nr, long... args) {
        long r = call(nr, args);
        if (r < 0 && r > -4096) {
            throw new SyscallException(what + " in process " + tracee.tid(), (int) -r);
        }
        return r;
    }

    private void step(int nr, String stop) {
        tracee.syscall(0);
        WaitStatus s = tracee.await();
        if (s.gone()) {
            throw new ProcessGoneException(s, "running injected syscall " + nr);
        }
        if (!s.syscallStop()) {
            throw new HotcloneException("process " + tracee.tid() + " " + s + " instead of the syscall "
                    + stop + " stop of injected syscall " + nr);
        }
    }

    /**
     * Unmaps the scratch area and leaves the thread with {@code regs} and {@code mask}, ready to
     * be let go.
     *
     * @param sameTask whether {@code regs} were read from this very task (see
     *                 {@link Registers#makeResumable})
     */
    public void cure(MemorySegment regs, long mask, boolean sameTask) {
        cured = true;
        if (scratch != 0) {
            long s = scratch;
            scratch = 0;
            if (sharedScratch) {
                sharedScratch = false;
            } else if (borrowed != null) {
                memory.write(s, MemorySegment.ofArray(borrowed));
            } else {
                check("munmap(scratch)", SYS_munmap, s, SCRATCH_SIZE);
            }
        }
        try (Arena local = Arena.ofConfined()) {
            MemorySegment last = local.allocate(regs.byteSize(), 8);
            MemorySegment.copy(regs, 0, last, 0, regs.byteSize());
            Registers.makeResumable(last, sameTask);
            tracee.setRegs(last);
        }
        tracee.setSigmask(mask);
    }

    @Override
    public void close() {
        try {
            if (!cured) {
                cure(saved, savedMask, true);
            }
            if (stopDeferred) {
                stopDeferred = false;
                MemorySegment cs = Native.callState();
                Native.check(Libc.kill(cs, tracee.tid(), SIGSTOP), cs, () -> "kill(" + tracee.tid() + ", SIGSTOP)");
            }
        } catch (SyscallException e) {
            if (e.errno() != Errno.ESRCH) {
                throw e;
            }
        } finally {
            memory.close();
            arena.close();
        }
    }
}
