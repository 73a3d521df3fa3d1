package io.hotclone.capture;

import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.user_regs_struct;
import io.hotclone.capture.dirty.StopServer;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.ptrace.ProcessGoneException;
import io.hotclone.process.ptrace.RemoteMemory;
import io.hotclone.process.ptrace.Siginfo;
import io.hotclone.process.ptrace.SyscallStop;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.process.ptrace.WaitStatus;
import io.hotclone.process.ptrace.WakeUp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import java.util.function.Supplier;

import static io.hotclone.bindings.linux.Errno.ESRCH;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_EXITKILL;
import static io.hotclone.bindings.linux.Ptrace.PTRACE_O_TRACESYSGOOD;
import static io.hotclone.bindings.linux.Signal.SEGV_ACCERR;
import static io.hotclone.bindings.linux.Signal.SIGSEGV;
import static io.hotclone.bindings.linux.Signal.SIGTRAP;
import static io.hotclone.bindings.linux.Signal.SI_KERNEL;

/**
 * A protected program traced for its whole life, as dirty tracking by page protection needs
 * ({@code MprotectTracker}): its tracer thread waits for its stops and serves them: the SIGSEGV
 * of a first write to a protected page, each system call's entry (buffers to open, forks) and
 * exit (mappings changed, EFAULT), and the interrupt stop at which a checkpoint is taken.
 *
 * <p>The tracer sleeps in waitpid(2), which nothing but the program wakes: a checkpoint is
 * asked for by {@link #wake()} from the scheduling thread, which sends the program a SIGSTOP
 * marked as hotclone's ({@link WakeUp})
 * (the one signal it cannot block); the tracer discards it, interrupts the program and takes
 * the checkpoint at the interrupt stop. Any other ptrace stop (a system call, a fault, the
 * trap after an injected call) clears a pending PTRACE_INTERRUPT, so the tracer interrupts
 * again before each resume until the interrupt stop comes. Other signals are delivered as they
 * come, and the program's own stops are left as they are (PTRACE_LISTEN).
 *
 * <p>Thread confinement: {@link #run} on the tracer thread; {@link #wake} and {@link #close}
 * from others.
 */
final class SeizedLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SeizedLoop.class);
    /** How long {@link #serveWaiting} looks for another stop after serving one. */
    private static final long BURST_NANOS = 100_000;
    /** The ptrace options the program is seized with: it stops at every system call and dies with its tracer. */
    private static final long OPTIONS = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;

    private final int pid;
    private final Supplier<StopServer> tracker;
    private final Function<LifelongTracee, Integer> checkpoint;
    /** Tracer thread only, from {@link #run}: the program, its memory, its system call entered, its end. */
    private Tracee tracee;
    private RemoteMemory memory;
    private SyscallStop entry;
    private WaitStatus gone;
    private RuntimeException broken;
    /** Opened once the program is seized (or the loop ended first): a wake-up SIGSTOP sent before
     *  would leave the untraced program in a stop of its own, which the loop leaves as it is. */
    private final CountDownLatch seized = new CountDownLatch(1);
    private final Object lock = new Object();
    /** Completed once the checkpoint asked for is taken (null) or the program ended (its status). */
    private CompletableFuture<Integer> asked;
    private Integer ended;

    /**
     * @param tracker    what the program's tracker now asks to be served at its stops
     *                   ({@link StopServer#NONE} while none is armed, or after it broke)
     * @param checkpoint takes a checkpoint with the tracee stopped at the barrier, lets it run
     *                   again and runs the tracer's work (serving it) while it finishes, and
     *                   returns the program's status if it ended meanwhile
     */
    SeizedLoop(int pid, Supplier<StopServer> tracker, Function<LifelongTracee, Integer> checkpoint) {
        this.pid = pid;
        this.tracker = tracker;
        this.checkpoint = checkpoint;
    }

    /**
     * Asks for a checkpoint and waits until the tracer took it.
     *
     * @return the program's exit status if it ended, else null
     */
    Integer wake() {
        try {
            seized.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for process " + pid + " to be seized", e);
        }
        CompletableFuture<Integer> done;
        synchronized (lock) {
            if (ended != null) {
                return ended;
            }
            if (asked == null) {
                asked = new CompletableFuture<>();
            }
            done = asked;
        }
        if (!WakeUp.send(pid)) {
            LOG.debug("no wake-up sent to process {}: it ended, as its tracer says", pid);
        }
        return done.join();
    }

    private boolean wanted() {
        synchronized (lock) {
            return asked != null;
        }
    }

    private void taken(Integer status) {
        CompletableFuture<Integer> done;
        synchronized (lock) {
            if (status != null) {
                ended = status;
            }
            done = asked;
            asked = null;
        }
        if (done != null) {
            done.complete(status);
        }
    }

    /**
     * Seizes the program and serves it until it ends.
     *
     * @return its exit status, or 128 + the signal that killed it
     */
    int run() {
        try (Tracee t = Tracee.seize(pid, OPTIONS); RemoteMemory m = new RemoteMemory(pid)) {
            tracee = t;
            memory = m;
            seized.countDown();
            // Its first stop: served like any other (a wake-up's SIGSTOP may come before it).
            t.interrupt();
            while (true) {
                WaitStatus s = gone != null ? gone : t.await();
                if (s.gone()) {
                    return end(Spawn.shellStatus(s));
                }
                if (s.interruptStop() && s.stopSignal() == SIGTRAP && wanted()) {
                    // Lets the program run again itself, and serves it while it finishes the checkpoint.
                    Integer status = checkpoint.apply(new LifelongTracee(t, OPTIONS, this::serveWaiting));
                    if (broken != null) {
                        throw broken; // not the checkpoint's failure: the program was left in a stop unserved
                    }
                    taken(status);
                    if (status != null) {
                        return status;
                    }
                    continue;
                }
                serve(s, true);
            }
        } catch (ProcessGoneException e) {
            return end(Spawn.shellStatus(e.status()));
        } catch (RuntimeException e) {
            WaitStatus killed = killedMeanwhile(e);
            if (killed != null) {
                return end(Spawn.shellStatus(killed));
            }
            taken(null);
            throw e;
        } finally {
            seized.countDown();
        }
    }

    /**
     * The program's end if {@code e} is a ptrace call that found it gone from its stop
     * (ESRCH) because it was killed meanwhile (SIGKILL reaches even a stopped tracee): its next
     * wait reports the end. Null if it is not so.
     */
    private WaitStatus killedMeanwhile(RuntimeException e) {
        if (!(e instanceof SyscallException se) || se.errno() != ESRCH || tracee == null) {
            return null;
        }
        WaitStatus s = gone != null ? gone : tracee.await();
        return s.gone() ? s : null;
    }

    /**
     * Serves the stops the program reported meanwhile, without waiting for more: between the
     * end of a freeze and the end of its checkpoint (reading its pages, writing the journal).
     */
    private void serveWaiting() {
        try {
            serveBurst();
        } catch (RuntimeException e) {
            broken = e; // for run(), past the checkpoint, which must not take it for its own failure
        }
    }

    private void serveBurst() {
        long until = 0;
        while (gone == null && broken == null) {
            WaitStatus s = tracee.poll();
            if (s == null) {
                if (System.nanoTime() >= until) {
                    return;
                }
                Thread.onSpinWait();
            } else if (s.gone()) {
                gone = s; // for run(), which learns it from here
            } else {
                serve(s, false);
                until = System.nanoTime() + BURST_NANOS; // faults come in bursts: the next one is likely near
            }
        }
    }

    /**
     * Serves one stop and lets the program run on.
     *
     * @param interrupt whether to interrupt the program for a checkpoint asked for
     */
    private void serve(WaitStatus s, boolean interrupt) {
        int deliver = 0;
        if (s.syscallStop()) {
            SyscallStop stop = tracee.syscallStop();
            if (stop.entry()) {
                entry = stop;
                Runnable work = tracker.get().beforeCall(stop, memory);
                if (work != null) {
                    skipAndRetry(stop.nr(), work);
                }
            } else {
                if (entry != null && tracker.get().afterCall(entry, stop.result())) {
                    rewind(entry.nr());
                }
                entry = null;
            }
        } else if (s.interruptStop() && s.stopSignal() != SIGTRAP) {
            tracee.listen(); // the program's own group stop (SIGSTOP, SIGTSTP ...): it stays stopped
            return;
        } else if (s.signalDeliveryStop()) {
            deliver = signal(tracee.siginfo());
        }
        if (interrupt && wanted()) {
            // Again at every stop until the interrupt stop: any ptrace stop spends a pending one.
            tracee.interrupt();
        }
        tracee.syscall(deliver);
    }

    private int end(int status) {
        taken(status);
        return status;
    }

    /** The signal to deliver for the one about to be: 0 for hotclone's own (a page fault it caused, its wake-up). */
    private int signal(Siginfo info) {
        StopServer t = tracker.get();
        if (info.signal() == SIGSEGV && info.code() == SEGV_ACCERR && t.fault(info.address())) {
            return 0;
        }
        if (info.wakeUp()) {
            return 0;
        }
        if (info.signal() == SIGSEGV && info.code() == SI_KERNEL && t.protectsAny()) {
            LOG.error("process {} gets a SIGSEGV from the kernel, which could not write its memory: a signal frame or"
                    + " its rseq area on a page protected for dirty tracking; run it with --dirty-tracking uffd", pid);
        } else if (info.signal() == SIGSEGV) {
            LOG.info("process {}: SIGSEGV (si_code {}) at 0x{}, not from dirty tracking: delivered", pid, info.code(),
                    Long.toHexString(info.address()));
        }
        return info.signal();
    }

    /**
     * Runs {@code work} (injected calls) before the system call {@code nr} the tracee is
     * entering: the call is skipped, so the tracee reaches its exit stop, where calls can be
     * injected; then it is set to make the same call again, and enters it anew.
     */
    private void skipAndRetry(long nr, Runnable work) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment regs = tracee.newRegs(local);
            tracee.getRegs(regs);
            user_regs_struct.orig_rax(regs, -1);
            tracee.setRegs(regs);
            tracee.syscall(0);
            WaitStatus s = tracee.await();
            if (s.gone()) {
                throw new ProcessGoneException(s, "skipping system call " + nr);
            }
            if (!s.syscallStop()) {
                throw new IllegalStateException("process " + pid + " " + s + " instead of the exit of a skipped call");
            }
            work.run();
        }
        rewind(nr);
    }

    /** Sets the tracee, at a syscall-exit stop, to make system call {@code nr} again. */
    private void rewind(long nr) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment regs = tracee.newRegs(local);
            tracee.getRegs(regs);
            user_regs_struct.rip(regs, user_regs_struct.rip(regs) - 2);
            user_regs_struct.rax(regs, nr);
            tracee.setRegs(regs);
        }
    }

    /** Releases every thread waiting in {@link #wake}. */
    @Override
    public void close() {
        synchronized (lock) {
            if (ended == null) {
                ended = -1;
            }
        }
        taken(ended);
    }
}
