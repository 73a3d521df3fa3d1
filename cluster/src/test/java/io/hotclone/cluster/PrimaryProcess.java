package io.hotclone.cluster;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A primary in a JVM of its own, for tests that kill it with SIGKILL: joins, becomes primary,
 * prints "primary epoch N" and waits to be killed. Arguments: zkConnect service name leaseMillis.
 */
public final class PrimaryProcess {
    public static void main(String[] args) throws InterruptedException {
        ClusterSession session = ClusterSession.join(args[0], args[1], args[2], Duration.ofMillis(Long.parseLong(args[3])), ClusterListener.NONE);
        long epoch = session.becomePrimary(Duration.ofSeconds(5));
        System.out.println("primary epoch " + epoch);
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
