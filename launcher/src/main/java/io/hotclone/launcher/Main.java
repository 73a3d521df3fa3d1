package io.hotclone.launcher;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.JournalOutage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code hotclone} command. Exit codes: 0 done, 1 failed (a {@link HotcloneException}: its
 * message alone is printed, the stack trace only with {@code --debug} or HOTCLONE_DEBUG=1),
 * 2 usage error, {@value #JOURNAL_FAILED} protection ended because the journal took no checkpoint
 * for too long ({@link JournalOutage}).
 */
@Command(
        name = "hotclone",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        subcommands = {CheckCommand.class, CheckpointCommand.class, RestoreCommand.class, RunCommand.class, StandbyCommand.class, CoordinatorCommand.class, StatusCommand.class, JournalCommand.class, HelpCommand.class},
        description = {
            "Keeps an unmodified Linux program running when the machine under it dies.",
            "It checkpoints a running program from the outside (ptrace and /proc: no agent inside"
                    + " it, no change to it) into a journal, and restores it from that journal in a"
                    + " new process.",
            ""
        },
        commandListHeading = "%nCommands:%n",
        footerHeading = "%nExamples:%n",
        footer = {
            "  hotclone check         does this kernel have what hotclone needs?",
            "  hotclone help check    what one command does, and its options"
        })
public final class Main implements Callable<Integer> {
    static final String DEBUG_OPTION = "--debug";
    /** The exit status of a run whose journal failed past --journal-failure-limit (sysexits' EX_IOERR). */
    static final int JOURNAL_FAILED = 74;

    @Spec
    private CommandSpec spec;

    // Read through the parse result (debugRequested), which sees it before or after the command.
    @Option(
            names = DEBUG_OPTION,
            scope = ScopeType.INHERIT,
            description = "On failure, print the stack trace too (or set HOTCLONE_DEBUG=1).")
    private boolean debug;

    private Main() {}

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests redirect its output and call execute themselves. */
    public static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main())
                .setParameterExceptionHandler(Main::reportUsageError)
                .setExecutionExceptionHandler(Main::report);
        ServiceLoader.load(ContributedCommand.class).forEach(commandLine::addSubcommand);
        // Everything after the program's name is the program's, options included.
        commandLine.getSubcommands().get("run").setStopAtPositional(true);
        return commandLine;
    }

    /** {@code hotclone} alone: the usage, on stderr since no command ran. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE;
    }

    private static int reportUsageError(ParameterException error, String[] args) {
        CommandLine command = error.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("hotclone: " + usageMessage(error));
        UnmatchedArgumentException.printSuggestions(error, err);
        err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        return ExitCode.USAGE;
    }

    private static String usageMessage(ParameterException error) {
        if (error instanceof UnmatchedArgumentException unmatched
                && !unmatched.isUnknownOption()
                && !error.getCommandLine().getSubcommands().isEmpty()) {
            return "unknown command '" + unmatched.getUnmatched().getFirst() + "'";
        }
        return error.getMessage();
    }

    private static int report(Exception failure, CommandLine command, ParseResult parsed) {
        PrintWriter err = command.getErr();
        if (failure instanceof HotcloneException) {
            err.println("hotclone: " + failure.getMessage());
            if (debugRequested(parsed)) {
                failure.printStackTrace(err);
            }
        } else {
            // Not a failure hotclone foresaw: a bug, and the trace is what a report needs.
            err.println("hotclone: unexpected " + failure + " (please report it with this trace)");
            failure.printStackTrace(err);
        }
        err.flush();
        return failure instanceof JournalOutage ? JOURNAL_FAILED : ExitCode.SOFTWARE;
    }

    private static boolean debugRequested(ParseResult parsed) {
        if ("1".equals(System.getenv("HOTCLONE_DEBUG"))) {
            return true;
        }
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption(DEBUG_OPTION)) {
                return true;
            }
        }
        return false;
    }

    /** The project version (filtered into version.properties by the build), the JVM and the kernel. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties build = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                build.load(in);
            }
            return new String[] {
                "hotclone " + build.getProperty("version"),
                "Java " + Runtime.version() + " (" + System.getProperty("java.home") + ")",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch")
            };
        }
    }
}
