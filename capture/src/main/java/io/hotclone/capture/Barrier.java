package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.bindings.SyscallException;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.ProcessGoneException;
import io.hotclone.process.ptrace.Tracee;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.hotclone.bindings.linux.Errno.ESRCH;

/**
 * Every thread of a process stopped at once, for a checkpoint: each is seized and interrupted,
 * and /proc/PID/task is listed again until it shows no thread the barrier does not hold, so a
 * thread made while the others were stopping is caught too; one that ended meanwhile is dropped.
 * The leader (the thread whose id is the pid) comes first.
 *
 * <p>Thread confinement: the tracer thread that stopped it makes every call.
 */
final class Barrier implements AutoCloseable {
    private final List<Tracee> threads;

    private Barrier(List<Tracee> threads) {
        this.threads = threads;
    }

    /** Seizes ({@code options}) and stops every thread of the process {@code proc} shows. */
    static Barrier stop(ProcFs proc, long options) {
        List<Tracee> held = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        try {
            held.add(seize(proc, proc.pid(), options));
            seen.add(proc.pid());
            awaitStopped(held, 0);
            for (List<Integer> fresh = unseen(proc, seen); !fresh.isEmpty(); fresh = unseen(proc, seen)) {
                int from = held.size();
                for (int tid : fresh) {
                    seen.add(tid);
                    Tracee t = seize(proc, tid, options);
                    if (t != null) {
                        held.add(t);
                    }
                }
                awaitStopped(held, from);
            }
            return new Barrier(held);
        } catch (RuntimeException e) {
            held.forEach(Tracee::close);
            throw e;
        }
    }

    /** The thread ids {@code proc} lists now that are not in {@code seen}. */
    private static List<Integer> unseen(ProcFs proc, Set<Integer> seen) {
        return proc.tasks().stream().filter(tid -> !seen.contains(tid)).toList();
    }

    /** Seizes and interrupts thread {@code tid}; null if it ended first (the leader must not). */
    private static Tracee seize(ProcFs proc, int tid, long options) {
        Tracee t;
        try {
            t = Tracee.seize(tid, options);
        } catch (HotcloneException e) {
            if (tid != proc.pid() && !proc.path("task/" + tid).toFile().exists()) {
                return null;
            }
            throw e;
        }
        t.interrupt();
        return t;
    }

    /** Waits for the interrupt stop of each thread from index {@code from}; drops the ones that ended. */
    private static void awaitStopped(List<Tracee> held, int from) {
        for (int i = from; i < held.size(); ) {
            Tracee t = held.get(i);
            try {
                t.awaitInterruptStop();
                i++;
            } catch (ProcessGoneException e) {
                if (i == 0) {
                    throw e;
                }
                t.close();
                held.remove(i);
            }
        }
    }

    /** The leader: the process-wide state is read and the injected calls are made in it. */
    Tracee leader() {
        return threads.getFirst();
    }

    /** Every thread but the leader. */
    List<Tracee> others() {
        return threads.subList(1, threads.size());
    }

    int size() {
        return threads.size();
    }

    /**
     * Lets every thread go on; the ones its process's exit killed meanwhile are collected, but
     * the leader, whose end its parent collects.
     */
    void release() {
        others().forEach(Tracee::release);
        try {
            leader().detach(0);
        } catch (SyscallException e) {
            if (e.errno() != ESRCH) {
                throw e;
            }
        }
    }

    /** Lets go of the threads still held (an abort path) and frees their buffers. */
    @Override
    public void close() {
        for (Tracee t : others()) {
            try {
                t.release();
            } catch (RuntimeException e) {
                // not stopped any more; closing frees what is left
            }
        }
        threads.forEach(Tracee::close);
    }
}
