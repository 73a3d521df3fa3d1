package io.hotclone.cluster;

import io.hotclone.bindings.HotcloneException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.utils.ZKPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches everything under the service's root: tells the {@link ClusterListener} of member
 * changes and of the primary's departure, and counts changes so that an election wakes on each
 * without polling.
 */
final class ServiceWatch {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceWatch.class);

    private final ServiceZk zk;
    private final String membersPath;
    private final ClusterListener listener;
    private final Runnable ownNodeGone;
    private final CuratorCache cache;
    private final CountDownLatch primed = new CountDownLatch(1);
    private final Object changes = new Object();
    private long changeCount;

    /** @param ownNodeGone called when this node's own member node vanished */
    ServiceWatch(ServiceZk zk, String membersPath, ClusterListener listener, Runnable ownNodeGone) {
        this.zk = zk;
        this.membersPath = membersPath;
        this.listener = listener;
        this.ownNodeGone = ownNodeGone;
        this.cache = CuratorCache.build(zk.client(), zk.root());
    }

    /** Starts watching and waits up to {@code wait} for the first full read of the service. */
    void start(Duration wait) throws InterruptedException {
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(node -> changed(null, node))
                .forChanges(this::changed)
                .forDeletes(old -> changed(old, null))
                .forInitialized(this::initialized)
                .build());
        cache.start();
        if (!primed.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new HotcloneException("could not read service " + zk.service() + " from ZooKeeper at " + zk.zkConnect()
                    + " within " + wait.toSeconds() + " s: is the server overloaded?");
        }
    }

    /** How many changes were seen so far. */
    long changeCount() {
        synchronized (changes) {
            return changeCount;
        }
    }

    /** Waits until a change after the {@code seen}th, or until {@code untilNanos} ({@link System#nanoTime}). */
    void awaitChange(long seen, long untilNanos) {
        synchronized (changes) {
            try {
                long left;
                while (changeCount == seen && (left = untilNanos - System.nanoTime()) > 0) {
                    TimeUnit.NANOSECONDS.timedWait(changes, left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new HotcloneException("interrupted while electing a primary of service " + zk.service(), e);
            }
        }
    }

    void close() {
        cache.close();
    }

    private void initialized() {
        primed.countDown();
        listener.membersChanged(cachedMembers());
        changed(null, null);
    }

    /** From the cache: a node created (old null), changed, or deleted (now null). */
    private void changed(ChildData old, ChildData now) {
        ChildData node = now != null ? now : old;
        if (node != null && primed.getCount() == 0 && membersPath.equals(ZKPaths.getPathAndNode(node.getPath()).getPath())) {
            try {
                Member last = old == null ? null : Member.decode(ZKPaths.getNodeFromPath(old.getPath()), old.getData());
                if (now == null && last.name().equals(zk.name())) {
                    ownNodeGone.run(); // the node of a session lost meanwhile expired, or someone deleted it
                }
                boolean stillPrimary = now != null && Member.decode(ZKPaths.getNodeFromPath(now.getPath()), now.getData()).role() == Role.PRIMARY;
                if (last != null && last.role() == Role.PRIMARY && !stillPrimary && !last.name().equals(zk.name())) {
                    listener.primaryGone(last);
                }
                listener.membersChanged(cachedMembers());
            } catch (RuntimeException e) {
                LOG.warn("{}: ignored a member change in {}: {}", zk.name(), zk.service(), e.getMessage());
            }
        }
        synchronized (changes) {
            changeCount++;
            changes.notifyAll();
        }
    }

    private List<Member> cachedMembers() {
        return cache.stream()
                .filter(d -> membersPath.equals(ZKPaths.getPathAndNode(d.getPath()).getPath()))
                .map(d -> Member.decode(ZKPaths.getNodeFromPath(d.getPath()), d.getData()))
                .sorted(Membership.BY_NAME)
                .toList();
    }
}
