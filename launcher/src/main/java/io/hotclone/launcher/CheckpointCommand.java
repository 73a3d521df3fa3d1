package io.hotclone.launcher;

import io.hotclone.capture.Checkpointer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "checkpoint",
        description = {
                "Take a full checkpoint of a running process into a journal.",
                "",
                "The process is frozen for the capture and then runs on (unless --kill). The checkpoint "
                        + "becomes visible in the journal only once it is complete; a failure leaves nothing a "
                        + "restore could mistake for a checkpoint. A program using something hotclone cannot "
                        + "restore yet (threads, child processes, pipes, sockets, terminals ...) is refused, "
                        + "with the resource named.",
                "",
                "Example:  hotclone checkpoint --pid 4242 --journal /var/lib/hotclone/app",
                "          hotclone checkpoint --journal /var/lib/hotclone/app --now",
                ""},
        mixinStandardHelpOptions = true)
final class CheckpointCommand implements Callable<Integer> {
    @Option(names = "--pid", paramLabel = "PID", converter = Values.Count.class, description = "The process to checkpoint.")
    Integer pid;

    @Option(names = "--now", description = "Instead of --pid: ask the hotclone run that writes the journal for a "
            + "checkpoint now, and print it as 'hotclone journal ls' does; with standbys, once they acknowledged it as "
            + "its --ack says (an error after 10 s without).")
    boolean now;

    @Spec
    CommandSpec spec;

    @Option(names = "--journal", required = true, paramLabel = "DIR",
            description = "Journal directory; created if missing, appended to if it exists. One writer at a time: a "
                    + "journal another hotclone is writing is refused, naming it (pid, host, command, since when).")
    Path journal;

    @Option(names = "--kill", description = "Kill the process once the checkpoint is committed.")
    boolean kill;

    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        if (now == (pid != null)) {
            throw new ParameterException(spec.commandLine(), "give either --pid PID or --now");
        }
        if (now) {
            System.out.println(ControlSocket.requestCheckpoint(journal));
            return 0;
        }
        Checkpointer.refuseWhatCannotBeCaptured(pid);
        Checkpointer.Result r = CreatedJournal.use(journal, j -> new Checkpointer(pid, j, kill).checkpoint());
        if (json) {
            System.out.printf("{\"seq\":%d,\"pid\":%d,\"areas\":%d,\"pages\":%d,\"bytes\":%d,\"fds\":%d,"
                            + "\"freeze_us\":%d,\"duration_us\":%d,\"threads\":%d}%n", r.seq(), pid, r.areas(), r.pages(),
                    r.pageBytes(), r.fds(), r.freezeMicros(), r.durationMicros(), r.threads());
        } else {
            System.out.printf("checkpoint seq=%d pid=%d areas=%d pages=%d bytes=%d fds=%d freeze_us=%d"
                            + " duration_us=%d threads=%d%n", r.seq(), pid, r.areas(), r.pages(), r.pageBytes(), r.fds(),
                    r.freezeMicros(), r.durationMicros(), r.threads());
        }
        return 0;
    }
}
