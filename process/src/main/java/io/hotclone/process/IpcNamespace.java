package io.hotclone.process;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.process.proc.ProcFs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import static io.hotclone.bindings.linux.Fcntl.O_CLOEXEC;
import static io.hotclone.bindings.linux.Fcntl.O_RDONLY;
import static io.hotclone.bindings.linux.Sched.CLONE_NEWIPC;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_setns;

/**
 * A thread of hotclone's in the IPC namespace of a process: System V IPC objects are named by
 * ids that mean something only inside their namespace, and setns(2) moves the calling thread
 * alone, so no other thread of hotclone ever sees the program's objects. Joining costs a thread
 * and a setns (~370 us measured here), so a program's chain of checkpoints keeps one; files the
 * thread opens under /proc/sysvipc and /proc/sys/kernel are the namespace's.
 */
public final class IpcNamespace implements AutoCloseable {
    private final int pid;
    private final String link;
    private final ExecutorService thread;

    private IpcNamespace(int pid, String link, ExecutorService thread) {
        this.pid = pid;
        this.link = link;
        this.thread = thread;
    }

    /** Whether process {@code pid} is in an IPC namespace other than hotclone's. */
    public static boolean isOwn(int pid) {
        return !link(pid).equals(link((int) ProcessHandle.current().pid()));
    }

    /** A thread in the IPC namespace process {@code pid} is in now. */
    public static IpcNamespace join(int pid) {
        Path ns = new ProcFs(pid).path("ns/ipc");
        String link = link(pid);
        ExecutorService thread = Executors.newSingleThreadExecutor(
                r -> Thread.ofPlatform().daemon().name("hotclone-ipc-" + pid).unstarted(r));
        IpcNamespace joined = new IpcNamespace(pid, link, thread);
        try {
            joined.call(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment cs = Native.callState();
                    int fd = Native.check(Libc.open(cs, Native.cString(arena, ns.toString()), O_RDONLY | O_CLOEXEC, 0),
                            cs, "open(" + ns + ")");
                    try {
                        return Native.check(Libc.syscall(cs, SYS_setns, fd, CLONE_NEWIPC, 0, 0, 0, 0), cs,
                                "setns(" + ns + ", CLONE_NEWIPC)");
                    } finally {
                        Libc.close(cs, fd);
                    }
                }
            });
            return joined;
        } catch (RuntimeException e) {
            joined.close();
            throw e;
        }
    }

    /** Runs {@code work} on a thread that joins the IPC namespace of process {@code pid} for it alone. */
    public static <T> T call(int pid, Supplier<T> work) {
        try (IpcNamespace ns = join(pid)) {
            return ns.call(work);
        }
    }

    /** Whether process {@code pid} is still in the namespace this thread joined (it may have made another). */
    public boolean holds(int pid) {
        return link(pid).equals(link);
    }

    /** Runs {@code work} on the thread in the namespace and returns its result; what it throws is thrown here. */
    public <T> T call(Supplier<T> work) {
        return result(submit(work));
    }

    /** Starts {@code work} on the thread in the namespace; {@link #result} waits for it. */
    public <T> Future<T> submit(Supplier<T> work) {
        return thread.submit(work::get);
    }

    /** What {@code done}, work {@link #submit}ted here, returned; what it threw is thrown here. */
    public <T> T result(Future<T> done) {
        try {
            return done.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case RuntimeException r -> throw r;
                case Error r -> throw r;
                case Throwable t -> throw new HotcloneException("in the IPC namespace of process " + pid + ": " + t, t);
            }
        } catch (InterruptedException e) {
            done.cancel(false);
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted while working in the IPC namespace of process " + pid, e);
        }
    }

    /** Ends the thread, which lets go of the namespace. */
    @Override
    public void close() {
        thread.shutdown();
    }

    private static String link(int pid) {
        return new ProcFs(pid).link("ns/ipc");
    }
}
