package io.hotclone.launcher;

import io.hotclone.image.Restorable;
import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.KernelFeatures;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hotclone check}: probes the kernel, prints what it offers, fails if hotclone cannot work here. */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = {
            "Checks that this kernel and this process have what hotclone needs.",
            "Prints one line per feature (ok or no, and what a missing one means), and exits 1"
                    + " naming what is missing if hotclone cannot work here. Then lists what a checkpoint"
                    + " keeps of a program ('keeps') and what it refuses by name ('refuses'; the program runs"
                    + " on untouched)."
        })
public final class CheckCommand implements Callable<Integer> {
    /** A feature without which hotclone cannot checkpoint or restore at all, and how to get it. */
    record Requirement(String name, Predicate<KernelFeatures> met, String fix) {}

    /** Missing features not listed here have a fallback, or only cost speed. */
    static final List<Requirement> REQUIREMENTS = List.of(
            new Requirement("ptrace PTRACE_SEIZE", KernelFeatures::ptraceSeize,
                    "run as root or with CAP_SYS_PTRACE, with no seccomp filter or Yama ptrace_scope forbidding it"),
            new Requirement("clone3 with set_tid", KernelFeatures::clone3SetTid,
                    "needs Linux 5.5+ and CAP_CHECKPOINT_RESTORE (or CAP_SYS_ADMIN)"),
            new Requirement("prctl(PR_SET_MM_MAP)", KernelFeatures::prSetMmMap,
                    "needs a kernel built with CONFIG_CHECKPOINT_RESTORE"));

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the probed features as one JSON object instead.")
    private boolean json;

    @Override
    public Integer call() {
        KernelFeatures features = KernelFeatures.probe();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(features.toJson());
        } else {
            features.describe().forEach(out::println);
            Restorable.KEPT.forEach(e -> out.println("keeps    " + e.what() + ": " + e.detail()));
            Restorable.REFUSED.forEach(e -> out.println("refuses  " + e.what() + ": " + e.detail()));
        }
        out.flush();
        List<String> missing = missing(features);
        if (!missing.isEmpty()) {
            throw new HotcloneException("hotclone cannot work on this machine, it lacks " + String.join("; ", missing));
        }
        return ExitCode.OK;
    }

    /** Each requirement the features do not meet, as "name (fix)". */
    static List<String> missing(KernelFeatures features) {
        return REQUIREMENTS.stream()
                .filter(requirement -> !requirement.met().test(features))
                .map(requirement -> requirement.name() + " (" + requirement.fix() + ")")
                .toList();
    }
}
