package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.server.ServerCnxnFactory;
import org.apache.zookeeper.server.ZooKeeperServer;
import org.apache.zookeeper.server.persistence.FileTxnSnapLog;

/**
 * An embedded single-node ZooKeeper server: the coordinator on one machine, or the witness of a
 * two-node cluster. Its tick is 100 ms, so sessions (leases) from 200 ms to 60 s are granted as
 * asked. Its data directory keeps the services' epochs across restarts.
 */
public final class Coordinator implements AutoCloseable {
    static final int TICK_MILLIS = 100;
    private static final int MAX_SESSION_MILLIS = 60_000;
    private static final int MAX_CONNECTIONS_PER_HOST = 100;

    private final FileTxnSnapLog storage;
    private final ServerCnxnFactory connections;
    private final Path dataDir;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Coordinator(FileTxnSnapLog storage, ServerCnxnFactory connections, Path dataDir) {
        this.storage = storage;
        this.connections = connections;
        this.dataDir = dataDir;
    }

    /** Starts the server on {@code bind} (port 0: any free port) with its data in {@code dataDir}, created if missing. */
    public static Coordinator start(InetSocketAddress bind, Path dataDir) {
        FileTxnSnapLog storage;
        try {
            Files.createDirectories(dataDir);
            storage = new FileTxnSnapLog(dataDir.toFile(), dataDir.toFile());
        } catch (IOException e) {
            throw new HotcloneException("cannot use " + dataDir + " as the coordinator's data directory (" + e
                    + "): choose a writable directory", e);
        }
        ZooKeeperServer server = new ZooKeeperServer(storage, TICK_MILLIS, "");
        server.setMinSessionTimeout(2 * TICK_MILLIS);
        server.setMaxSessionTimeout(MAX_SESSION_MILLIS);
        ServerCnxnFactory connections = null;
        try {
            connections = ServerCnxnFactory.createFactory(bind, MAX_CONNECTIONS_PER_HOST);
            connections.startup(server);
            return new Coordinator(storage, connections, dataDir);
        } catch (BindException e) {
            close(storage);
            throw new HotcloneException("cannot listen on " + text(bind) + " for the coordinator: the port is taken ("
                    + e.getMessage() + "); stop what holds it or choose another --port", e);
        } catch (IOException e) {
            stop(connections);
            close(storage);
            throw new HotcloneException("the coordinator could not start on " + text(bind) + " with data in " + dataDir
                    + ": " + e, e);
        } catch (InterruptedException e) {
            stop(connections);
            close(storage);
            Thread.currentThread().interrupt();
            throw new HotcloneException("interrupted while starting the coordinator on " + text(bind), e);
        }
    }

    /** "host:port" for {@link ClusterSession#join}; a wildcard bind is reached through the loopback address. */
    public String connectString() {
        InetSocketAddress a = address();
        if (a.getAddress().isAnyLocalAddress()) {
            return "127.0.0.1:" + a.getPort();
        }
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** The address listened on, with the port chosen when 0 was asked for. */
    public InetSocketAddress address() {
        return connections.getLocalAddress();
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Stops the server: every client loses its connection at once and sees SUSPENDED. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stop(connections);
        close(storage);
    }

    private static String text(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    private static void stop(ServerCnxnFactory connections) {
        if (connections != null) {
            connections.shutdown(); // shuts the server down too
        }
    }

    private static void close(FileTxnSnapLog storage) {
        try {
            storage.close();
        } catch (IOException e) {
            throw new HotcloneException("could not close the coordinator's data files: " + e, e);
        }
    }
}
