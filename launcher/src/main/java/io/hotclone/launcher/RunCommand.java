package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.capture.launch.Spawn;
import io.hotclone.journal.Journal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

@Command(name = "run",
        description = {
                "Run a program under protection: it is checkpointed into a journal while it runs.",
                "",
                "The program starts in a process group of its own, with hotclone's environment and "
                        + "stdio (which a restore hands over again, as the restoring hotclone's stdio). SIGINT, "
                        + "SIGTERM and SIGHUP sent to hotclone are passed on to it, and hotclone exits with the "
                        + "program's exit status (128 + N if signal N killed it).",
                "",
                "A checkpoint can also be asked for at any time: hotclone checkpoint --journal DIR --now.",
                "",
                "Example:  hotclone run --journal /var/lib/hotclone/app -- ./server --port 8080",
                ""},
        mixinStandardHelpOptions = true)
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");
    private static final List<String> FORWARDED = List.of("INT", "TERM", "HUP");

    @Option(names = "--journal", required = true, paramLabel = "DIR",
            description = "Journal directory; created if missing, appended to if it exists.")
    Path journal;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "100ms",
            description = "Time between checkpoints: 100ms, 2s, 1m (default: ${DEFAULT-VALUE}).")
    String interval;

    /** How written pages are found between checkpoints. */
    enum DirtyTracking { uffd, none }

    @Option(names = "--dirty-tracking", paramLabel = "MODE", defaultValue = "uffd",
            description = "uffd: userfaultfd write-protect with PAGEMAP_SCAN finds the pages written since the last "
                    + "checkpoint, so checkpoints after the first carry only those (needs Linux 6.7+); none: every "
                    + "checkpoint is full (default: ${DEFAULT-VALUE}).")
    DirtyTracking tracking;

    @Parameters(arity = "1..*", paramLabel = "PROGRAM [ARG...]", description = "The program and its arguments.")
    List<String> command;

    @Override
    public Integer call() {
        Duration every = parse(interval);
        try (Journal j = Journal.create(journal)) {
            List<String> environment = System.getenv().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
            int pid = Spawn.spawn(command.getFirst(), command, environment, Spawn.Group.OWN_GROUP);
            LOG.info("protecting {} as pid {}, checkpointed every {} into {}", command.getFirst(), pid, interval, journal);
            Summary summary = new Summary();
            try (ProtectedProgram program = new ProtectedProgram(pid, j, every, tracking == DirtyTracking.uffd, summary);
                 ControlSocket control = ControlSocket.serve(journal, program)) {
                for (String name : FORWARDED) {
                    Signal.handle(new Signal(name), s -> forward(pid, s.getNumber()));
                }
                int status = program.run();
                LOG.info("{} exited with status {}; {}", command.getFirst(), status, summary);
                return status;
            }
        }
    }

    private static void forward(int pid, int signal) {
        try {
            Spawn.kill(pid, signal);
        } catch (HotcloneException e) {
            LOG.warn("could not pass signal {} on to pid {}: {}", signal, pid, e.getMessage());
        }
    }

    static Duration parse(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new HotcloneException("--checkpoint-interval " + text + " is not a duration: write it as 100ms, 2s or 1m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    /** Counts checkpoints, and says once, not ten times a second, what keeps failing. */
    private static final class Summary implements ProtectedProgram.Listener {
        private long taken;
        private long failed;
        private long lastSeq;
        private long freezeTotal;
        private long freezeMax;
        private String lastFailure;

        @Override
        public void checkpointed(Checkpointer.Result r) {
            if (taken == 0) {
                LOG.info("first checkpoint seq={}: {} pages, frozen {} us", r.seq(), r.pages(), r.freezeMicros());
            }
            taken++;
            lastSeq = r.seq();
            freezeTotal += r.freezeMicros();
            freezeMax = Math.max(freezeMax, r.freezeMicros());
            lastFailure = null;
        }

        @Override
        public void checkpointFailed(HotcloneException failure) {
            failed++;
            if (!failure.getMessage().equals(lastFailure)) {
                LOG.warn("checkpoint failed, the program runs on unprotected: {}", failure.getMessage());
                lastFailure = failure.getMessage();
            }
        }

        @Override
        public String toString() {
            return taken + " checkpoints (last seq " + lastSeq + ", freeze mean " + (taken == 0 ? 0 : freezeTotal / taken)
                    + " us, max " + freezeMax + " us), " + failed + " failed";
        }
    }
}
