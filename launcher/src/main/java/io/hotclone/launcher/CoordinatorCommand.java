package io.hotclone.launcher;

import io.hotclone.cluster.Coordinator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "coordinator",
        description = {
                "Run the coordinator: an embedded ZooKeeper server for membership, election and fencing.",
                "",
                "Through it the nodes of a service agree on who is a member, which node is primary, and the "
                        + "epoch that fences an old primary. On one machine it is all a cluster needs; for two nodes run it on a third machine as the "
                        + "witness, so that either node can fail. Production can point the nodes at an existing "
                        + "ZooKeeper ensemble instead. It runs until SIGINT or SIGTERM. The data directory keeps "
                        + "every service's epoch across restarts: reuse it, or an old primary's epoch could "
                        + "come back.",
                "",
                "Leases (ZooKeeper sessions) from 200 ms to 60 s are granted; a primary cut off from the "
                        + "coordinator learns it after 2/3 of its lease, and its standbys may take over after "
                        + "the whole lease.",
                "",
                "Example:  hotclone coordinator --data /var/lib/hotclone/coordinator",
                "          hotclone coordinator --bind 0.0.0.0 --port 2181 --data /srv/zk",
                ""},
        mixinStandardHelpOptions = true)
final class CoordinatorCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(CoordinatorCommand.class);
    private static final List<String> STOPPING = List.of("INT", "TERM");

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "2181", converter = Values.Port.class,
            description = "TCP port the nodes connect to (default: ${DEFAULT-VALUE}; 0: any free port).")
    int port;

    @Option(names = "--data", required = true, paramLabel = "DIR",
            description = "Data directory (snapshots and transaction log); created if missing.")
    Path data;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1", converter = Values.Address.class,
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0: every interface).")
    InetAddress bind;

    @Override
    public Integer call() throws InterruptedException {
        InetSocketAddress address = new InetSocketAddress(bind, port);
        CountDownLatch stop = new CountDownLatch(1);
        for (String name : STOPPING) {
            Signal.handle(new Signal(name), s -> stop.countDown());
        }
        try (Coordinator coordinator = Coordinator.start(address, data)) {
            InetSocketAddress listening = coordinator.address();
            LOG.info("coordinator listening on {}:{}, data in {}", listening.getHostString(), listening.getPort(), data);
            stop.await();
            LOG.info("coordinator stopping");
        }
        return 0;
    }
}
