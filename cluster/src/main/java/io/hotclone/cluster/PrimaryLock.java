package io.hotclone.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's primary lock, {@code lock} (Curator's {@link InterProcessMutex}): only its holder
 * is primary, for as long as its session lives. Its nodes name their creator.
 */
final class PrimaryLock {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryLock.class);

    private final ServiceZk zk;
    private final String path;

    PrimaryLock(ServiceZk zk) {
        this.zk = zk;
        this.path = zk.path("lock");
    }

    /** A fresh mutex each time: a held one outlives a lost session in Curator's bookkeeping. */
    boolean acquire(Duration wait) {
        try {
            return new InterProcessMutex(zk.client(), path).acquire(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            throw zk.failure("take the primary lock of service " + zk.service(), e);
        }
    }

    /** The lock nodes of this node's session. */
    List<String> ownNodes() throws Exception {
        long session = zk.sessionId();
        List<String> own = new ArrayList<>();
        List<String> children;
        try {
            children = zk.client().getChildren().forPath(path);
        } catch (KeeperException.NoNodeException none) {
            return own;
        }
        for (String child : children) {
            String node = ZKPaths.makePath(path, child);
            Stat stat = zk.client().checkExists().forPath(node);
            if (stat != null && stat.getEphemeralOwner() == session) {
                own.add(node);
            }
        }
        return own;
    }

    void giveUp() {
        try {
            for (String node : ownNodes()) {
                zk.client().delete().quietly().forPath(node);
            }
        } catch (Exception e) {
            throw zk.failure("give up the primary lock of service " + zk.service(), e);
        }
    }

    void giveUpQuietly() {
        try {
            giveUp();
        } catch (RuntimeException e) {
            LOG.warn("{} could not give up the lock of {} (its session's end will): {}", zk.name(), zk.service(), e.getMessage());
        }
    }

    /** Who holds the lock, for a refusal. */
    String holder() {
        try {
            List<String> nodes = new ArrayList<>(new InterProcessMutex(zk.client(), path).getParticipantNodes());
            if (nodes.isEmpty()) {
                return "nobody now";
            }
            return new String(zk.client().getData().forPath(nodes.getFirst()), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "another node (" + e + ")";
        }
    }
}
