package io.hotclone.launcher;

import io.hotclone.capture.JournalOutage;
import io.hotclone.capture.ProtectedProgram;
import io.hotclone.capture.dirty.Tracking;
import io.hotclone.process.launch.HeldStart;
import io.hotclone.process.launch.Spawn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "run",
        description = {
                "Run a program under protection: it is checkpointed into a journal while it runs, and, with "
                        + "--zk and standbys, replicated to them so that one takes over if this node dies.",
                "",
                "The program starts in a process group of its own, with hotclone's environment and "
                        + "stdio (which a restore hands over again, as the restoring hotclone's stdio). SIGINT, "
                        + "SIGTERM and SIGHUP sent to hotclone are passed on to it, and hotclone exits with the "
                        + "program's exit status (128 + N if signal N killed it).",
                "",
                "The program never outlives its protection unnoticed: if hotclone ends first, however it ends "
                        + "(kill -9 included), the kernel kills the program with it (PR_SET_PDEATHSIG, set before "
                        + "the program's first instruction). --on-hotclone-exit continue leaves it running instead, "
                        + "unprotected.",
                "",
                "With --zk this node becomes the primary of the service (one at a time: the coordinator's lock "
                        + "decides) and ships every checkpoint to each standby of the service: those given with "
                        + "--standby and every `hotclone standby` that joins. If it loses contact with the "
                        + "coordinator it kills the program at once, since a standby will take over; with --listen "
                        + "it then rejoins as a standby, else it exits with status 75.",
                "",
                "Besides every interval, a checkpoint is taken at once when the program runs another program "
                        + "(exec) or maps 64 MiB more memory, and whenever asked: hotclone checkpoint --journal DIR --now.",
                "",
                "A checkpoint that fails leaves the program running and is logged with its reason; it is tried again "
                        + "after 100 ms, then less and less often (up to every 3.2 s), and the log says how long the "
                        + "program ran without a committed checkpoint once one commits again. After an exec the next "
                        + "checkpoint is full and tracking starts anew. A program's child processes are checkpointed with "
                        + "it (under --dirty-tracking mprotect, which follows one thread, checkpoints of a program with "
                        + "threads or child processes fail, and resume once they are gone). If the journal takes no checkpoint (its disk "
                        + "full or read-only, an I/O error) for --journal-failure-limit, hotclone kills the program and "
                        + "exits with status 74.",
                "",
                "Examples:",
                "  hotclone run --journal /var/lib/hotclone/app -- ./server --port 8080",
                "  hotclone run --journal /var/lib/hotclone/app --zk 10.0.0.9:2181 --standby 10.0.0.2:7100 \\",
                "      --listen 10.0.0.1:7100 -- ./server --port 8080",
                ""},
        mixinStandardHelpOptions = true)
final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ProtectionOptions protection;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--standby", split = ",", paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "Standbys to replicate to (needs --zk); standbys that join the service later are "
                    + "found through the coordinator.")
    List<InetSocketAddress> standbys = List.of();

    @Option(names = "--listen", paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "Where this node serves as a standby if it loses its lease (needs --zk).")
    InetSocketAddress listen;

    @Option(names = "--on-hotclone-exit", paramLabel = "ACTION", defaultValue = "kill", converter = OnExit.class,
            description = "What becomes of the program if hotclone ends before it (killed, crashed, kill -9). kill: "
                    + "the program is killed with it, at any moment, so that it never runs unprotected unnoticed. "
                    + "continue: it runs on, untraced and no longer checkpointed (unless hotclone dies in the middle of "
                    + "a checkpoint, the few ms the program is frozen and hotclone is inside it: then it is killed, "
                    + "since it could not run on correctly). Not with --zk (a standby would take over and run a "
                    + "second copy) nor --dirty-tracking mprotect (hotclone traces the program and protects its pages "
                    + "for its whole life) (default: ${DEFAULT-VALUE}).")
    HeldStart.Lifetime onExit;

    @Parameters(arity = "1..*", paramLabel = "PROGRAM [ARG...]", description = "The program and its arguments.")
    List<String> command;

    @Spec
    CommandSpec spec;

    /** kill or continue, as --on-hotclone-exit takes it. */
    static final class OnExit implements ITypeConverter<HeldStart.Lifetime> {
        @Override
        public HeldStart.Lifetime convert(String value) {
            return switch (value) {
                case "kill" -> HeldStart.Lifetime.TIED;
                case "continue" -> HeldStart.Lifetime.FREE;
                default -> throw new TypeConversionException("'" + value + "' is not kill or continue");
            };
        }
    }

    @Override
    public Integer call() {
        refuseWhatCannotWork();
        List<String> environment = System.getenv().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        if (cluster.zk != null) {
            try (Node node = Node.join(new Node.Settings(cluster.service, cluster.name(), cluster.zk,
                    cluster.lease, protection.journal, protection.interval, protection.tracking(),
                    protection.retention, protection.journalFailureLimit,
                    protection.ack.policy, listen, standbys))) {
                return node.runPrimary(command, environment);
            }
        }
        return CreatedJournal.use(protection.journal, journal -> {
            int pid = HeldStart.run(command, environment, Spawn.Group.OWN_GROUP, onExit);
            LOG.info("protecting {} as pid {}, checkpointed every {} into {}{}", command.getFirst(), pid,
                    Values.Period.text(protection.interval), protection.journal,
                    onExit == HeldStart.Lifetime.FREE ? "; it runs on, unprotected, if hotclone ends first" : "");
            Summary summary = new Summary();
            try (ProtectedProgram program = new ProtectedProgram(pid, journal, protection.interval,
                    protection.tracking(), 0, protection.retention, protection.journalFailureLimit, summary);
                 ControlSocket control = ControlSocket.serve(protection.journal, program);
                 Signals forwarded = Signals.forwardTo(pid)) {
                int status;
                try {
                    status = forwarded.status(program.run());
                } catch (JournalOutage e) {
                    LOG.info("{} was killed; {}", command.getFirst(), summary);
                    throw e;
                }
                LOG.info("{} exited with status {}; {}", command.getFirst(), status, summary);
                return status;
            }
        });
    }

    /** Options that do not go together: usage errors, before anything starts or is created. */
    private void refuseWhatCannotWork() {
        if (cluster.zk == null && (!standbys.isEmpty() || listen != null)) {
            throw new ParameterException(spec.commandLine(), "--standby and --listen need a coordinator: give --zk"
                    + " HOST:PORT (start one with `hotclone coordinator`), which decides who is primary and fences a"
                    + " replaced one");
        }
        if (onExit == HeldStart.Lifetime.FREE && cluster.zk != null) {
            throw new ParameterException(spec.commandLine(), "--on-hotclone-exit continue cannot go with --zk: once"
                    + " this node's lease expires a standby resumes the program, and the copy left running here would"
                    + " be a second one, writing the same files (give --on-hotclone-exit kill, the default)");
        }
        if (onExit == HeldStart.Lifetime.FREE && protection.tracking() == Tracking.MPROTECT) {
            throw new ParameterException(spec.commandLine(), "--on-hotclone-exit continue cannot go with"
                    + " --dirty-tracking mprotect: hotclone traces the program for its whole life and takes write"
                    + " permission away from its pages, so it dies with hotclone (give --dirty-tracking uffd or none)");
        }
    }
}
