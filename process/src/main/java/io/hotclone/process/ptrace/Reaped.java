package io.hotclone.process.ptrace;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The ends of tracees that hotclone's waits collected. The kernel reports a task's end once, to
 * whichever wait asks first: a tracer waiting for a thread of a program that is also hotclone's
 * child (as a protected program is) reaps the program when that thread is its leader and the
 * program dies meanwhile, and the parent's own wait for it then finds no child. Its status is
 * kept here for that wait. So are the stops a wait for another task collected first (a new
 * child's first stop, reported before its parent's fork event), for the wait for that task.
 */
public final class Reaped {
    /** More than a program's threads ever end between two waits for it; the oldest go first. */
    private static final int KEPT = 1024;
    private static final Map<Integer, WaitStatus> ENDS = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, WaitStatus> eldest) {
            return size() > KEPT;
        }
    };

    private static final Map<Integer, WaitStatus> STOPS = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, WaitStatus> eldest) {
            return size() > KEPT;
        }
    };

    private Reaped() {}

    /** Keeps a stop of {@code stop.pid()} a wait for another task collected. */
    static synchronized void stopped(WaitStatus stop) {
        STOPS.put(stop.pid(), stop);
    }

    /** The stop of {@code pid} a wait for another task collected, once. */
    static synchronized Optional<WaitStatus> takeStop(int pid) {
        return Optional.ofNullable(STOPS.remove(pid));
    }

    /** Keeps an end a tracer's wait collected. */
    static synchronized void collected(WaitStatus end) {
        ENDS.put(end.pid(), end);
    }

    /** The end of {@code pid} a tracer collected, once. */
    public static synchronized Optional<WaitStatus> take(int pid) {
        return Optional.ofNullable(ENDS.remove(pid));
    }
}
