package io.hotclone.capture;

import io.hotclone.capture.dirty.DirtyTracker;
import io.hotclone.capture.dirty.StopServer;
import io.hotclone.process.proc.MapsEntry;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.RemoteSyscalls;
import io.hotclone.process.ptrace.Tracee;
import io.hotclone.image.ThreadState;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * A program traced for its whole life by a {@link SeizedLoop} on a thread of its own, as a
 * program protected with {@code --dirty-tracking mprotect} is: the loop serves its faults and
 * system calls for the {@link DirtyTracker} given, and tests run work at its barriers, on
 * the tracer thread, with the program stopped and infected as a checkpoint finds it. Closing
 * waits for the loop, which ends with the program: kill the program first.
 */
public final class TracerLoop implements AutoCloseable {
    private static final long WAIT_SECONDS = 10;

    /** What a checkpoint has at its barrier: the program stopped and infected, its thread's state, its maps. */
    public record Barrier(Tracee tracee, RemoteSyscalls remote, ThreadState thread, List<MapsEntry> maps) {
    }

    private final int pid;
    private final SeizedLoop loop;
    private final CompletableFuture<Integer> end = new CompletableFuture<>();
    /** Completed at the loop's first stop served: its start is over, and a wake-up (SIGSTOP) is its own. */
    private final CompletableFuture<Void> serving = new CompletableFuture<>();
    /** Tracer thread only, but set by barrier work: what the tracker the loop serves asks. */
    private volatile StopServer tracker = StopServer.NONE;
    private volatile Function<Barrier, ?> work;
    private volatile CompletableFuture<Object> done;

    private TracerLoop(int pid) {
        this.pid = pid;
        this.loop = new SeizedLoop(pid, () -> {
            serving.complete(null);
            return tracker;
        }, this::barrier);
    }

    /** Seizes {@code pid} on a new tracer thread and serves it from then on. */
    public static TracerLoop start(int pid) {
        TracerLoop t = new TracerLoop(pid);
        Thread.ofPlatform().name("tracer-" + pid).daemon().start(() -> {
            try {
                t.end.complete(t.loop.run());
            } catch (Throwable e) {
                t.end.completeExceptionally(e);
            }
        });
        t.awaitServing();
        return t;
    }

    /**
     * Until the loop serves the program's stops (a system call's, at the latest when the read
     * it waits in is restarted), a wake-up SIGSTOP would be delivered by the loop's start and
     * stop the program for good.
     */
    private void awaitServing() {
        try {
            CompletableFuture.anyOf(serving, end).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException | InterruptedException | ExecutionException e) {
            // said below
        }
        if (!serving.isDone()) {
            throw new IllegalStateException("the tracer loop of process " + pid + " served no stop of it within "
                    + WAIT_SECONDS + " s: " + (end.isDone() ? "it ended, " + loopFailure() : "still starting"));
        }
    }

    /** The tracker whose faults and system calls the loop serves from now on; barrier work only. */
    public void serve(DirtyTracker t) {
        tracker = t.stops();
    }

    /**
     * Stops the program at a barrier, runs {@code barrierWork} on the tracer thread, lets the
     * program run again and returns what the work returned (or throws what it threw).
     */
    @SuppressWarnings("unchecked")
    public <T> T atBarrier(Function<Barrier, T> barrierWork) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        work = barrierWork;
        done = result;
        Integer ended;
        try {
            // On a thread of its own: a lost wake-up would block an uninterruptible join forever.
            ended = CompletableFuture.supplyAsync(loop::wake).get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException | InterruptedException | ExecutionException e) {
            throw new IllegalStateException("process " + pid + " reached no barrier within " + WAIT_SECONDS
                    + " s of its wake-up: " + e, e);
        }
        if (!result.isDone()) {
            throw new IllegalStateException("process " + pid + " reached no barrier: "
                    + (ended != null ? "it ended with status " + ended : "its tracer loop ended: " + loopFailure()));
        }
        try {
            return (T) result.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error r) {
                throw r;
            }
            throw e;
        }
    }

    private String loopFailure() {
        try {
            return "status " + end.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause().toString();
        } catch (TimeoutException | InterruptedException e) {
            return "still running";
        }
    }

    /** The loop's checkpoint: the barrier work in place of a capture, then the program runs and is served. */
    private Integer barrier(LifelongTracee tracer) {
        Tracee tracee = tracer.tracee();
        CompletableFuture<Object> result = done;
        try {
            List<MapsEntry> maps = new ProcFs(pid).maps();
            byte[] xstate = tracee.xstate(); // before any injected call, as a capture reads it
            try (RemoteSyscalls remote = RemoteSyscalls.infectForCapture(tracee, maps)) {
                ThreadState thread = ThreadState.dumpAll(new ProcFs(pid), List.of(remote), List.of(xstate)).getFirst();
                result.complete(work.apply(new Barrier(tracee, remote, thread, maps)));
            }
        } catch (RuntimeException | Error e) {
            result.completeExceptionally(e);
        } finally {
            tracee.syscall(0);
        }
        tracer.serve().run();
        return null;
    }

    /** Waits for the loop to end (the program killed first) and fails with what the loop failed of. */
    @Override
    public void close() throws Exception {
        try {
            end.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the tracer loop of process " + pid + " still runs " + WAIT_SECONDS
                    + " s after the program was killed", e);
        } finally {
            loop.close();
        }
    }
}
