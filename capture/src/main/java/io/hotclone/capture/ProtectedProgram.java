package io.hotclone.capture;

import io.hotclone.process.Host;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.pollfd;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.ProcessGoneException;
import io.hotclone.journal.Journal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

import static io.hotclone.bindings.linux.Errno.EINTR;
import static io.hotclone.bindings.linux.Fcntl.EFD_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.POLLIN;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_pidfd_open;

/**
 * A program under protection: checkpointed every interval and on demand, until it exits.
 *
 * <p>With userfaultfd tracking (or none) the program is not traced between checkpoints, so it
 * runs at full speed and its signals reach it directly. One loop, the schedule, waits with
 * poll(2) on the program's pidfd (it ended), an eventfd (a checkpoint was asked for) and the
 * interval's deadline; every 20 ms it also asks /proc whether the program ran another program
 * or mapped much more memory, which is worth a checkpoint before the interval ends
 * ({@link ChangeWatch}).
 *
 * <p>A checkpoint that fails leaves the program running, and is tried again sooner than the
 * interval and then less and less often ({@link Failures}); each failure is logged with its
 * reason, and the next commit records how many failed before it. One the journal cannot take ({@link JournalFailure}: its disk full or read-only) is
 * tried again until the journal takes checkpoints again, for at most the run's journal failure
 * limit: then the program is killed, rather than run on unprotected, and {@link #run()} throws
 * {@link JournalOutage}.
 *
 * <p>With tracking by page protection the program is traced for its whole life by the
 * {@link SeizedLoop} on the calling thread, and the schedule runs on a thread of its own,
 * asking that loop for each checkpoint.
 *
 * <p>Thread confinement: {@link #run()} on one platform thread, the program's tracer;
 * {@link #requestCheckpoint()} from any thread.
 */
public final class ProtectedProgram implements AutoCloseable {
    /** Told about every checkpoint, taken or failed. */
    public interface Listener {
        void checkpointed(Checkpointer.Result result);

        void checkpointFailed(HotcloneException failure);
    }

    /** How often, between checkpoints, /proc is asked whether the program changed enough for one now. */
    private static final long WATCH_NANOS = 20_000_000;
    private static final Logger LOG = LoggerFactory.getLogger(ProtectedProgram.class);

    private final int pid;
    private final Journal journal;
    private final long intervalNanos;
    private final Listener listener;
    private final Chain chain;
    private final Retention retention;
    private final ChangeWatch watch;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment eventCount = arena.allocate(ValueLayout.JAVA_LONG);
    private final int pidfd;
    private final int requests;
    private final Queue<CompletableFuture<Checkpointer.Result>> requested = new ConcurrentLinkedQueue<>();
    private final Duration journalFailureLimit;
    private final Failures failures;
    /** Set once the journal failed past its limit and the program was killed; thrown by {@link #run()}. */
    private volatile JournalOutage outage;

    /**
     * @param pid      a child of this process, which must be reaped here when it ends
     * @param tracking how written pages are found, so that checkpoints after the first are
     *                 incremental ({@link Tracking#NONE}: every checkpoint is full)
     * @param epoch    the reign of this primary, carried by every checkpoint (0 without a cluster)
     * @param retention page bytes of incremental checkpoints allowed per page byte of the full one
     *                 they build on before the next is full; the journal's roll cycles before a
     *                 committed full checkpoint are dropped (see {@link Retention})
     * @param journalFailureLimit how long the journal may fail to take checkpoints before
     *                 protection ends (the program is killed and {@link #run()} throws)
     */
    public ProtectedProgram(int pid, Journal journal, Duration interval, Tracking tracking, long epoch, double retention,
                            Duration journalFailureLimit, Listener listener) {
        this.pid = pid;
        this.chain = new Chain(epoch, tracking);
        this.watch = new ChangeWatch(pid);
        this.retention = new Retention(retention);
        this.journal = journal;
        this.intervalNanos = interval.toNanos();
        this.listener = listener;
        this.journalFailureLimit = journalFailureLimit;
        this.failures = new Failures(journalFailureLimit.toNanos(), System.nanoTime());
        MemorySegment callState = arena.allocate(Libc.callStateLayout());
        pidfd = (int) check(Libc.syscall(callState, SYS_pidfd_open, pid, 0, 0, 0, 0, 0), callState, "pidfd_open(" + pid + ")");
        requests = (int) check(Libc.eventfd(callState, 0, EFD_CLOEXEC), callState, "eventfd");
    }

    public int pid() {
        return pid;
    }

    /**
     * Asks for a checkpoint as soon as possible.
     *
     * @return completed with the checkpoint taken for it, or with why none could be
     */
    public CompletableFuture<Checkpointer.Result> requestCheckpoint() {
        CompletableFuture<Checkpointer.Result> taken = new CompletableFuture<>();
        requested.add(taken);
        try (Arena local = Arena.ofConfined()) {
            MemorySegment callState = local.allocate(Libc.callStateLayout());
            MemorySegment one = local.allocateFrom(ValueLayout.JAVA_LONG, 1L);
            check(Libc.write(callState, requests, one, 8), callState, "write(eventfd)");
        }
        return taken;
    }

    /** Makes the next checkpoint full (a standby needs a new base to build on). Any thread. */
    public void requestFullCheckpoint() {
        chain.askFull();
    }

    /**
     * Checkpoints the program until it ends.
     *
     * @return its exit status, or 128 + the signal that killed it, as a shell reports it
     * @throws JournalOutage if the journal failed for longer than its limit, and the program was
     *                       killed for it
     */
    public int run() {
        int status = protect();
        if (outage != null) {
            throw outage;
        }
        return status;
    }

    private int protect() {
        if (chain.tracking() != Tracking.MPROTECT) {
            Integer exit = schedule(() -> checkpoint(null));
            return exit != null ? exit : reap();
        }
        try (SeizedLoop loop = new SeizedLoop(pid, () -> chain.stops(pid), this::checkpoint)) {
            // It ends by itself once the program has: its pidfd reads ready, or the loop's close() answers.
            Thread.ofPlatform().name("hotclone-schedule-" + pid).daemon().start(() -> {
                try {
                    schedule(loop::wake);
                } catch (RuntimeException e) {
                    LOG.error("checkpoint schedule of pid {} stopped: {}", pid, e.toString());
                }
            });
            try {
                int status = loop.run();
                requested.forEach(r -> r.completeExceptionally(new HotcloneException("process " + pid
                        + " ended before the checkpoint")));
                return status;
            } finally {
                loop.close();
            }
        }
    }

    /**
     * Decides when checkpoints are taken, and has {@code checkpoint} take them, until the
     * program ends (its pidfd reads ready: null) or a checkpoint finds it ended (its status).
     */
    private Integer schedule(Supplier<Integer> checkpoint) {
        MemorySegment callState = arena.allocate(Libc.callStateLayout());
        MemorySegment fds = pollfd.allocateArray(2, arena);
        pollfd.fd(pollfd.asSlice(fds, 0), pidfd);
        pollfd.events(pollfd.asSlice(fds, 0), (short) POLLIN);
        pollfd.fd(pollfd.asSlice(fds, 1), requests);
        pollfd.events(pollfd.asSlice(fds, 1), (short) POLLIN);
        long deadline = System.nanoTime() + intervalNanos;
        while (true) {
            long wake = Math.min(deadline, System.nanoTime() + WATCH_NANOS);
            int timeout = (int) Math.max(0, (wake - System.nanoTime() + 999_999) / 1_000_000);
            int ready = Libc.poll(callState, fds, 2, timeout);
            if (ready < 0) {
                if (Libc.errno(callState) == EINTR) {
                    continue;
                }
                throw new SyscallException("poll(pidfd of " + pid + ", eventfd)", Libc.errno(callState));
            }
            if ((pollfd.revents(pollfd.asSlice(fds, 0)) & POLLIN) != 0) {
                return null;
            }
            boolean asked = (pollfd.revents(pollfd.asSlice(fds, 1)) & POLLIN) != 0;
            if (asked) {
                check(Libc.read(callState, requests, eventCount, 8), callState, "read(eventfd)");
            }
            Optional<String> change = asked || System.nanoTime() >= deadline ? Optional.empty() : watch.change();
            if (change.isEmpty() && !asked && failures.refused() && capturable()) {
                change = Optional.of("it can be checkpointed again");
            }
            change.ifPresent(why -> LOG.info("checkpoint of pid {} now: {}", pid, why));
            if (asked || change.isPresent() || System.nanoTime() >= deadline) {
                Integer exit = checkpoint.get();
                if (exit != null) {
                    return exit;
                }
                long retry = failures.retryNanos();
                deadline = retry > 0 ? System.nanoTime() + retry : Math.max(deadline + intervalNanos, System.nanoTime());
            }
        }
    }

    /**
     * Takes one checkpoint, which answers every request made before it began; returns the
     * program's exit status if it ended meanwhile.
     *
     * @param tracer the program, traced for its whole life and stopped at the barrier; null: seize it now
     */
    private Integer checkpoint(LifelongTracee tracer) {
        List<CompletableFuture<Checkpointer.Result>> answered = new ArrayList<>();
        for (CompletableFuture<Checkpointer.Result> r; (r = requested.poll()) != null; ) {
            answered.add(r);
        }
        watch.since(); // the base for the next change, whether this checkpoint is taken or fails
        try {
            Checkpointer.Result result = new Checkpointer(pid, journal, chain, tracer, failures.inRow()).checkpoint();
            if (retention.committed(journal, result.seq(), residentBytes())) {
                chain.askFull();
            }
            long unprotected = failures.committed(System.nanoTime());
            if (unprotected >= 0) {
                LOG.info("checkpoint seq {} of pid {} committed: protection resumes after {} ms without a committed"
                        + " checkpoint", result.seq(), pid, unprotected / 1_000_000);
            }
            listener.checkpointed(result);
            answered.forEach(r -> r.complete(result));
            return null;
        } catch (ProcessGoneException e) {
            answered.forEach(r -> r.completeExceptionally(e));
            return Spawn.shellStatus(e.status());
        } catch (HotcloneException e) {
            answered.forEach(r -> r.completeExceptionally(e));
            if (tracer == null && ended()) {
                return reap(); // it ended as the checkpoint began (ptrace then answers EPERM, not ESRCH)
            }
            failed(e);
            listener.checkpointFailed(e);
            return null;
        }
    }

    /** Logs a failed checkpoint; ends protection if the journal has failed past its limit. */
    private void failed(HotcloneException e) {
        Failures.Failed f = failures.failed(e, System.nanoTime());
        String unprotected = f.unprotectedNanos() / 1_000_000 + " ms";
        if (f.overLimit()) {
            if (outage == null) {
                outage = new JournalOutage("journal " + journal.dir() + " took no checkpoint of pid " + pid + " for "
                        + journalFailureLimit.toMillis() + " ms (--journal-failure-limit), so protection ended and the"
                        + " program was killed; the last failure: " + e.getMessage() + "; make the journal writable"
                        + " again and restore the program from it (hotclone restore --journal " + journal.dir() + ")", e);
                Spawn.kill(pid, SIGKILL);
            }
            return;
        }
        LOG.warn("checkpoint of pid {} failed ({} in a row, none committed for {}; the program runs on, the next is"
                + " tried in {} ms{}): {}", pid, f.inRow(), unprotected, f.retryNanos() / 1_000_000,
                e instanceof JournalFailure ? ", and the run ends if the journal takes none for "
                        + journalFailureLimit.toMillis() + " ms" : "", e.getMessage());
    }

    /** Whether the program can be checkpointed now, as far as can be told without stopping it. */
    private boolean capturable() {
        try {
            Checkpointer.refuseWhatCannotBeCaptured(pid);
            return true;
        } catch (HotcloneException e) {
            return false;
        }
    }

    /** The program's resident memory now; 0 once it cannot be read (the program is ending). */
    private long residentBytes() {
        try {
            return new ProcFs(pid).statm().residentPages() * Host.PAGE_SIZE;
        } catch (HotcloneException e) {
            return 0;
        }
    }

    /** Whether the program has ended (its pidfd reads ready), without waiting. */
    private boolean ended() {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment callState = local.allocate(Libc.callStateLayout());
            MemorySegment fd = pollfd.allocate(local);
            pollfd.fd(fd, pidfd);
            pollfd.events(fd, (short) POLLIN);
            return Libc.poll(callState, fd, 1, 0) > 0 && (pollfd.revents(fd) & POLLIN) != 0;
        }
    }

    private int reap() {
        HotcloneException ended = new HotcloneException("process " + pid + " ended before the checkpoint");
        requested.forEach(r -> r.completeExceptionally(ended));
        return Spawn.waitFor(pid);
    }

    private static long check(long result, MemorySegment callState, String call) {
        if (result < 0) {
            throw new SyscallException(call, Libc.errno(callState));
        }
        return result;
    }

    @Override
    public void close() {
        chain.close();
        watch.close();
        try (Arena local = Arena.ofConfined()) {
            MemorySegment callState = local.allocate(Libc.callStateLayout());
            Libc.close(callState, pidfd);
            Libc.close(callState, requests);
        }
        arena.close();
    }
}
