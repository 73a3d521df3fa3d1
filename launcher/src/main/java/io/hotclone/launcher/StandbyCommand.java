package io.hotclone.launcher;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "standby",
        description = {
                "Hold a replica of a protected program's journal, and take the program over when its primary fails.",
                "",
                "Joins the service at the coordinator (--zk) and listens for the primary, which ships every "
                        + "checkpoint here as it writes it. Each checkpoint is also applied to a hot clone: a stopped "
                        + "process that holds the program's memory and mappings as of the last checkpoint, so that a "
                        + "switch only installs registers, files and signals and lets it run. When the primary's lease expires (it died, or was cut off: "
                        + "it then stops its own copy), the standbys elect the most up-to-date one; the winner "
                        + "restores the program from its last committed checkpoint, with this hotclone's stdio, and "
                        + "protects it from then on as the new primary, towards the remaining standbys. It logs "
                        + "`switched: pid N from checkpoint seq S in T ms` with the time spent in each step.",
                "",
                "Exits with the program's exit status once the program ends, here or on the primary.",
                "",
                "Example:  hotclone standby --listen 10.0.0.2:7100 --journal /var/lib/hotclone/app --zk 10.0.0.9:2181",
                ""},
        mixinStandardHelpOptions = true)
final class StandbyCommand implements Callable<Integer> {
    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", converter = Addresses.class,
            description = "Where the primary reaches this standby (port 0: any free port, published to the coordinator).")
    InetSocketAddress listen;

    @Mixin
    ProtectionOptions protection;

    @Mixin
    ClusterOptions cluster;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (cluster.zk == null) {
            throw new ParameterException(spec.commandLine(), "a standby needs its coordinator: give --zk HOST:PORT (the one the primary"
                    + " uses; start one with `hotclone coordinator`)");
        }
        try (Node node = Node.join(new Node.Settings(cluster.service, cluster.name(), cluster.zk,
                cluster.lease, protection.journal, protection.interval, protection.tracking(),
                    protection.retention, protection.journalFailureLimit,
                protection.ack.policy, listen, List.of()))) {
            return node.runStandby();
        }
    }
}
