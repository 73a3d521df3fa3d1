package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.ClientCnxnSocketNetty;
import org.apache.zookeeper.client.ZKClientConfig;

/**
 * A node's lease: its ZooKeeper session, whose timeout is the lease.
 *
 * <p>Lease timing, for a lease (session timeout) L: the ZooKeeper client pings every L/3 and
 * declares the connection lost after 2L/3 without hearing from the server; Curator then reports
 * SUSPENDED, which is a loss of contact. The server expires a silent session after L (rounded up
 * to its tick, 100 ms on a {@link Coordinator}), and only then do the lock and the member node
 * vanish and a standby may win. So a primary cut off from ZooKeeper learns it about L/3 (minus
 * network delay and a tick) before anyone can take over: it must stop its program within that
 * margin, about 330 ms at L = 1 s.
 */
final class Lease {
    static final Duration FIRST_CONNECTION = Duration.ofSeconds(5);

    private Lease() {
    }

    /** The client of a session of {@code lease} at {@code zkConnect}, not started. */
    static CuratorFramework client(String zkConnect, String name, Duration lease) {
        int leaseMillis = Math.toIntExact(lease.toMillis());
        return CuratorFrameworkFactory.builder()
                .connectString(zkConnect)
                .sessionTimeoutMs(leaseMillis)
                .connectionTimeoutMs(leaseMillis)
                .retryPolicy(new ExponentialBackoffRetry(50, 4, 400))
                .zkClientConfig(clientConfig())
                // Nodes created without data (the lock's) name their creator: a refusal can say who holds the lock.
                .defaultData(name.getBytes(StandardCharsets.UTF_8))
                .build();
    }

    /**
     * Starts the session and waits up to 5 s for its first connection; refuses a server that
     * grants another timeout than the lease. From then on, {@code lost} hears of each loss of
     * contact (SUSPENDED or LOST) and {@code regained} of each connection (CONNECTED or RECONNECTED).
     */
    static void start(ServiceZk zk, Consumer<ConnectionState> lost, Runnable regained) throws Exception {
        zk.client().getConnectionStateListenable().addListener((c, state) -> {
            switch (state) {
                case SUSPENDED, LOST -> lost.accept(state);
                case CONNECTED, RECONNECTED -> regained.run();
                default -> { }
            }
        });
        zk.client().start();
        if (!zk.client().blockUntilConnected(Math.toIntExact(FIRST_CONNECTION.toMillis()), TimeUnit.MILLISECONDS)) {
            throw new HotcloneException("no ZooKeeper answered at " + zk.zkConnect() + " within " + FIRST_CONNECTION.toSeconds()
                    + " s: start one there (hotclone coordinator) or point this node at a running one");
        }
        int granted = zk.client().getZookeeperClient().getZooKeeper().getSessionTimeout();
        if (granted != zk.lease().toMillis()) {
            throw new HotcloneException("ZooKeeper at " + zk.zkConnect() + " granted a session of " + granted
                    + " ms instead of the lease of " + zk.lease().toMillis() + " ms: choose a lease within its"
                    + " minSessionTimeout..maxSessionTimeout (a hotclone coordinator allows 200 ms to 60 s)");
        }
    }

    /**
     * The Netty client: ZooKeeper's default NIO client sleeps 100 ms in its clean-up before it
     * reports a disconnection, which would eat a third of the primary's margin at a 1 s lease.
     */
    private static ZKClientConfig clientConfig() {
        ZKClientConfig config = new ZKClientConfig();
        config.setProperty(ZKClientConfig.ZOOKEEPER_CLIENT_CNXN_SOCKET, ClientCnxnSocketNetty.class.getName());
        return config;
    }
}
