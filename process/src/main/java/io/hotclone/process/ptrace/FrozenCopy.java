package io.hotclone.process.ptrace;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.launch.Spawn;

import static io.hotclone.bindings.linux.Sched.CLONE_PARENT;
import static io.hotclone.bindings.linux.Signal.SIGCHLD;
import static io.hotclone.bindings.linux.Signal.SIGKILL;
import static io.hotclone.bindings.linux.SyscallsAmd64.SYS_clone;

/**
 * A copy-on-write copy of a frozen program, for a capture that reads the pages after the
 * program runs again: a child forked by a clone injected into the program at the barrier. The
 * child never runs (the kernel attaches it to this tracer and it stops before its first
 * instruction), so its private memory stays what the program's was at the barrier.
 *
 * <p>The copy's parent is the program's parent (CLONE_PARENT): for a protected program that is
 * this hotclone, which reaps it, and the program never sees a child of its own. The program's
 * thread must be traced with PTRACE_O_TRACEFORK.
 */
public final class FrozenCopy implements AutoCloseable {
    private final Tracee tracee;

    private FrozenCopy(Tracee tracee) {
        this.tracee = tracee;
    }

    /** Forks the thread {@code remote} has infected; the copy is stopped when this returns. */
    public static FrozenCopy fork(RemoteSyscalls remote) {
        int child = remote.callForking("clone(CLONE_PARENT | SIGCHLD)", SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
        FrozenCopy copy = new FrozenCopy(Tracee.autoAttached(child));
        WaitStatus first = copy.tracee.await();
        if (!first.stopped()) {
            copy.close();
            throw new HotcloneException("the copy-on-write copy (pid " + child + ") of a frozen program " + first
                    + " before its first stop");
        }
        return copy;
    }

    /** The copy's pid: read its memory with process_vm_readv and /proc/PID/pagemap. */
    public int pid() {
        return tracee.tid();
    }

    /** Kills the copy and reaps it. */
    @Override
    public void close() {
        try {
            Spawn.kill(tracee.tid(), SIGKILL);
            while (!tracee.await().gone()) {
                // a stop reported before the kill landed: the next wait sees the end
            }
        } finally {
            tracee.forget();
        }
    }
}
