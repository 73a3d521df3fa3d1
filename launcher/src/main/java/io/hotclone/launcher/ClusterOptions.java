package io.hotclone.launcher;

import picocli.CommandLine.Option;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;

/** Where a node finds its coordinator, and who it is there. */
final class ClusterOptions {
    @Option(names = "--zk", paramLabel = "HOST:PORT[,HOST:PORT...]",
            description = "The coordinator: a ZooKeeper ensemble, or one `hotclone coordinator`.")
    String zk;

    @Option(names = "--service", paramLabel = "NAME", defaultValue = "default",
            description = "The protected service this node belongs to: one primary and its standbys share it "
                    + "(default: ${DEFAULT-VALUE}).")
    String service;

    @Option(names = "--name", paramLabel = "NAME",
            description = "This node's name in the service, unique among its nodes (default: the host name).")
    String name;

    @Option(names = "--lease", paramLabel = "DURATION", defaultValue = "1s", converter = Values.Period.class,
            description = "How long the coordinator waits for a silent node before it counts it gone: a failed "
                    + "primary is replaced after about this long, and a primary cut off from the coordinator "
                    + "stops its program within 2/3 of it (default: ${DEFAULT-VALUE}).")
    Duration lease;

    String name() {
        if (name != null) {
            return name;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "node-" + ProcessHandle.current().pid();
        }
    }
}
