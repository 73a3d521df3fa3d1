package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;

/**
 * One node's handle on its service at ZooKeeper: the client of its session, who it is, where the
 * service lives ({@code /hotclone/<service>}), and the errors that name them.
 */
record ServiceZk(CuratorFramework client, String zkConnect, String service, String name, Duration lease) {
    String root() {
        return ZKPaths.makePath("hotclone", service);
    }

    /** A node under the service's root. */
    String path(String child, String... more) {
        return ZKPaths.makePath(root(), child, more);
    }

    long sessionId() throws Exception {
        return client.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** Creates {@code path} with {@code data} unless an earlier node did. */
    void ensure(String path, byte[] data) throws Exception {
        try {
            client.create().creatingParentsIfNeeded().forPath(path, data);
        } catch (KeeperException.NodeExistsException exists) {
            // made by an earlier node
        }
    }

    HotcloneException nameTaken(long owner) {
        return new HotcloneException("name " + name + " is already live in service " + service + " (ZooKeeper session 0x"
                + Long.toHexString(owner) + " at " + zkConnect + "): give this node another name, or if that node died,"
                + " wait for its lease to end");
    }

    HotcloneException failure(String what, Exception e) {
        return new HotcloneException(name + " could not " + what + " at ZooKeeper " + zkConnect + ": " + e, e);
    }
}
