package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.nio.charset.StandardCharsets;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's epoch, {@code epoch}: the current reign, 0 before the first primary. Raised only
 * by the holder of the primary lock, by a version-checked write that also checks it still holds it.
 */
final class Epoch {
    private static final Logger LOG = LoggerFactory.getLogger(Epoch.class);

    private final ServiceZk zk;
    private final String path;

    Epoch(ServiceZk zk) {
        this.zk = zk;
        this.path = zk.path("epoch");
    }

    /** Makes the epoch node, at 0, unless an earlier node did. */
    void ensure() throws Exception {
        zk.ensure(path, "0".getBytes(StandardCharsets.UTF_8));
    }

    long read() {
        try {
            return Long.parseLong(new String(zk.client().getData().forPath(path), StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw zk.failure("read the epoch of service " + zk.service(), e);
        }
    }

    /** epoch + 1, written only if nobody wrote it meanwhile and this session still holds {@code lock}. */
    long raise(PrimaryLock lock) {
        try {
            String lockNode = lock.ownNodes().stream().findFirst()
                    .orElseThrow(() -> new HotcloneException("lost the primary lock of service " + zk.service() + " before raising its epoch"));
            while (true) {
                Stat stat = new Stat();
                long current = Long.parseLong(new String(zk.client().getData().storingStatIn(stat).forPath(path), StandardCharsets.UTF_8));
                try {
                    zk.client().transaction().forOperations(
                            zk.client().transactionOp().check().forPath(lockNode),
                            zk.client().transactionOp().setData().withVersion(stat.getVersion())
                                    .forPath(path, Long.toString(current + 1).getBytes(StandardCharsets.UTF_8)));
                    return current + 1;
                } catch (KeeperException.BadVersionException raced) {
                    LOG.debug("epoch of {} changed while raising it; reading it again", zk.service());
                }
            }
        } catch (HotcloneException e) {
            throw e;
        } catch (Exception e) {
            throw zk.failure("raise the epoch of service " + zk.service(), e);
        }
    }
}
