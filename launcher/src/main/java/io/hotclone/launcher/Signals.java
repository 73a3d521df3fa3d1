package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.launch.Spawn;
import io.hotclone.process.proc.ProcFs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.hotclone.bindings.linux.Signal.SIGKILL;

/**
 * Passes SIGINT, SIGTERM and SIGHUP sent to hotclone on to the program it protects, until
 * closed: stopping hotclone the usual ways stops the program, and hotclone then exits with the
 * program's status.
 *
 * <p>A program that is the first process of its pid namespace (as {@code hotclone run} starts
 * it) gets from an ancestor namespace only the signals it has a handler for (and SIGKILL,
 * SIGSTOP): one it has none for would be dropped, where outside a namespace its default action
 * (all three end the program) would have been taken. hotclone takes that action for it: it
 * kills the program, and reports the status the signal would have given.
 */
final class Signals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);
    private static final String[] FORWARDED = {"INT", "TERM", "HUP"};

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private final int pid;
    /** The signal whose default action hotclone carried out with SIGKILL, 0 if none. */
    private volatile int carriedOut;

    private Signals(int pid) {
        this.pid = pid;
        for (String name : FORWARDED) {
            Signal signal = new Signal(name);
            previous.put(signal, Signal.handle(signal, s -> forward(s.getNumber())));
        }
    }

    static Signals forwardTo(int pid) {
        return new Signals(pid);
    }

    /** The program's exit status as the signal hotclone carried out for it would have left it. */
    int status(int status) {
        int signal = carriedOut;
        return signal != 0 && status == 128 + SIGKILL ? 128 + signal : status;
    }

    private void forward(int signal) {
        try {
            if (droppedByInit(signal)) {
                LOG.info("program pid {} is the first process of its pid namespace and has no handler for signal {},"
                        + " which would not reach it: ending it as the signal would", pid, signal);
                carriedOut = signal;
                Spawn.kill(pid, SIGKILL);
            } else {
                Spawn.kill(pid, signal);
            }
        } catch (HotcloneException e) {
            LOG.warn("could not pass signal {} on to pid {}: {}", signal, pid, e.getMessage());
        }
    }

    /** Whether the program is its namespace's init with no handler for {@code signal}, which it does not ignore. */
    private boolean droppedByInit(int signal) {
        ProcFs proc = new ProcFs(pid);
        if (proc.innermostId(pid) != 1) {
            return false;
        }
        Map<String, String> status = proc.status();
        long bit = 1L << (signal - 1);
        return (Long.parseUnsignedLong(status.get("SigCgt"), 16) & bit) == 0
                && (Long.parseUnsignedLong(status.get("SigIgn"), 16) & bit) == 0;
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
