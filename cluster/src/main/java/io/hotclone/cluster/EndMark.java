package io.hotclone.cluster;

import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import org.apache.zookeeper.KeeperException;

/**
 * The service's end mark, {@code ended}: the exit status of a program that ended on its primary,
 * so that the standbys leave it ended instead of taking it over. A fresh start clears it.
 */
final class EndMark {
    private final ServiceZk zk;
    private final String path;

    EndMark(ServiceZk zk) {
        this.zk = zk;
        this.path = zk.path("ended");
    }

    void mark(int status) {
        byte[] text = Integer.toString(status).getBytes(StandardCharsets.UTF_8);
        try {
            zk.client().create().orSetData().forPath(path, text);
        } catch (Exception e) {
            throw zk.failure("mark service " + zk.service() + " ended", e);
        }
    }

    OptionalInt read() {
        try {
            return OptionalInt.of(Integer.parseInt(new String(zk.client().getData().forPath(path), StandardCharsets.UTF_8)));
        } catch (KeeperException.NoNodeException e) {
            return OptionalInt.empty();
        } catch (Exception e) {
            throw zk.failure("read whether service " + zk.service() + " ended", e);
        }
    }

    void clear() {
        try {
            zk.client().delete().quietly().forPath(path);
        } catch (Exception e) {
            throw zk.failure("clear the end mark of service " + zk.service(), e);
        }
    }
}
