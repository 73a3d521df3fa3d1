package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.launch.Spawn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Passes SIGINT, SIGTERM and SIGHUP sent to hotclone on to the program it protects, until
 * closed: stopping hotclone the usual ways stops the program, and hotclone then exits with the
 * program's status.
 */
final class Signals implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Signals.class);
    private static final String[] FORWARDED = {"INT", "TERM", "HUP"};

    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();

    private Signals(int pid) {
        for (String name : FORWARDED) {
            Signal signal = new Signal(name);
            previous.put(signal, Signal.handle(signal, s -> forward(pid, s.getNumber())));
        }
    }

    static Signals forwardTo(int pid) {
        return new Signals(pid);
    }

    private static void forward(int pid, int signal) {
        try {
            Spawn.kill(pid, signal);
        } catch (HotcloneException e) {
            LOG.warn("could not pass signal {} on to pid {}: {}", signal, pid, e.getMessage());
        }
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
