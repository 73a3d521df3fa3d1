package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.proc.ProcFs;
import io.hotclone.process.ptrace.ProcessGoneException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * Every process of the program stopped at once, for a checkpoint: the program's first process
 * ({@link Barrier} stops all its threads), then the children of each stopped process, which a
 * stopped parent can no longer add to, down the tree. A daemon the program started is in the
 * tree too: it is reparented to the program's first process, the init of its pid namespace. A
 * child that ended and was not waited for (a zombie) is found, not stopped.
 *
 * <p>Thread confinement: the tracer thread that stopped it makes every call.
 */
final class ProgramBarrier implements AutoCloseable {
    /**
     * One stopped process.
     *
     * @param parent the pid (here) of its parent in the program, 0 for the program's first process
     */
    record Member(ProcFs proc, int parent, Barrier threads) {
    }

    /**
     * A child of a stopped process that ended and was not waited for: not stopped (it runs no
     * more), and a zombie for as long as its parent is held.
     *
     * @param parent the pid (here) of its parent
     */
    record Zombie(ProcFs proc, int parent) {
    }

    private final List<Member> members;
    private final List<Zombie> zombies;

    private ProgramBarrier(List<Member> members, List<Zombie> zombies) {
        this.members = members;
        this.zombies = zombies;
    }

    /**
     * Seizes ({@code options}) and stops every process of the program whose first process
     * {@code root} shows, but {@code copies}, children hotclone's own checkpoints left it.
     */
    static ProgramBarrier stop(ProcFs root, long options, Set<Integer> copies) {
        List<Member> held = new ArrayList<>();
        List<Zombie> zombies = new ArrayList<>();
        Deque<int[]> waiting = new ArrayDeque<>();
        waiting.add(new int[] {root.pid(), 0});
        try {
            while (!waiting.isEmpty()) {
                int[] next = waiting.poll();
                ProcFs proc = new ProcFs(next[0]);
                if (next[1] != 0 && ended(proc, next[1])) {
                    zombies.add(new Zombie(proc, next[1]));
                    continue;
                }
                Member m = new Member(proc, next[1], next[1] == 0 ? Barrier.stop(proc, options) : stopChild(proc, next[1],
                        options));
                held.add(m);
                for (int child : proc.children()) {
                    if (!copies.contains(child)) {
                        waiting.add(new int[] {child, proc.pid()});
                    }
                }
            }
            return new ProgramBarrier(List.copyOf(held), List.copyOf(zombies));
        } catch (RuntimeException e) {
            held.forEach(m -> m.threads().close());
            throw e;
        }
    }

    /**
     * Whether a child of a held process ended and was not waited for (a zombie, which its held
     * parent cannot reap now). A leader that ended while other threads of its process run is
     * refused: the process lives on, which hotclone cannot restore yet.
     */
    private static boolean ended(ProcFs proc, int parent) {
        if (proc.stat().state() != 'Z') {
            return false;
        }
        if (proc.tasks().size() > 1) {
            throw new HotcloneException("cannot checkpoint the program: the main thread of process " + proc.pid()
                    + ", a child of " + parent + " in the program, has ended while its other threads run on, which"
                    + " hotclone cannot restore yet");
        }
        return true;
    }

    /** Stops a child of the program; one that ended is the checkpoint's failure, not the program's end. */
    private static Barrier stopChild(ProcFs proc, int parent, long options) {
        try {
            return Barrier.stop(proc, options);
        } catch (ProcessGoneException e) {
            throw new HotcloneException("cannot checkpoint the program now: process " + proc.pid() + ", a child of "
                    + parent + " in the program, ended during the barrier; the checkpoint is tried again", e);
        }
    }

    /** Every process, each parent before its children; the program's first process first. */
    List<Member> members() {
        return members;
    }

    /** The children of its processes that ended and were not waited for. */
    List<Zombie> zombies() {
        return zombies;
    }

    /** Lets every process go on, children first. */
    void release() {
        members.reversed().forEach(m -> m.threads().release());
    }

    /**
     * Lets go of the processes still held (an abort path) and frees their buffers: each one, the
     * program's first process last, whatever closing another threw (which is thrown after), so
     * that a child gone meanwhile never leaves the others traced.
     */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (Member m : members.reversed()) {
            try {
                m.threads().close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
