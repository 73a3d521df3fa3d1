package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import io.hotclone.journal.Journal;
import io.hotclone.journal.NewestSound;
import io.hotclone.restore.Restorer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "restore",
        description = {
                "Bring a program back from a journal in a new process.",
                "",
                "The new process continues from the checkpointed instruction with the checkpointed "
                        + "memory, registers, signal state and files. Prints 'pid N' as soon as it runs. "
                        + "Without --detach, waits for the program and exits with its exit status.",
                "",
                "Example:  hotclone restore --journal /var/lib/hotclone/app --detach",
                ""},
        mixinStandardHelpOptions = true)
final class RestoreCommand implements Callable<Integer> {
    @Option(names = "--journal", required = true, paramLabel = "DIR", description = "Journal directory.")
    Path journal;

    @Option(names = "--seq", paramLabel = "N", converter = Values.Seq.class,
            description = "Checkpoint to restore, as `hotclone journal ls` lists them (default: the latest committed one,"
                    + " refused if a newer one is damaged or lost: see --latest-sound).")
    Long seq;

    @Option(names = "--latest-sound", description = "Without --seq: restore the newest sound checkpoint even if a "
            + "newer one is damaged or was lost with a queue file, and say which (`hotclone journal verify` lists "
            + "every problem).")
    boolean latestSound;

    @Option(names = "--detach", description = "Return once the program runs, and leave it running. Without it the "
            + "program is killed if hotclone ends before it (kill -9 included).")
    boolean detach;

    @Override
    public Integer call() {
        Restorer.Result r;
        try (Journal j = Journal.open(journal)) {
            r = new Restorer(j, seq != null ? seq : newestSound(j),
                    detach ? HeldStart.Lifetime.FREE : HeldStart.Lifetime.TIED).restore();
        }
        System.out.println("pid " + r.pid());
        System.out.flush();
        System.err.printf("hotclone: restored checkpoint seq=%d (%d pages) in %d us%n", r.seq(), r.pages(),
                r.durationMicros());
        if (detach) {
            return 0;
        }
        return Spawn.waitFor(r.pid());
    }

    /** The checkpoint to restore without --seq: never a silent step back past a damaged or lost one. */
    private long newestSound(Journal j) {
        NewestSound newest = j.newestSound();
        newest.passedOver().ifPresent(what -> {
            if (!latestSound) {
                throw new HotcloneException("journal " + journal + ": " + what + ": restore --seq " + newest.seq()
                        + " or --latest-sound");
            }
            System.err.printf("hotclone: restoring seq %d, the newest sound checkpoint: %s%n", newest.seq(), what);
        });
        return newest.seq();
    }
}
