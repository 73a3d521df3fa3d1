package io.hotclone.replication;

import java.net.InetSocketAddress;

/** What a primary's {@link Replication} reports, from its threads: calls must be cheap and must not block. */
public interface ReplicationListener {
    /** Hears nothing: for a primary whose standbys need no watching (benchmarks). */
    ReplicationListener NONE = new ReplicationListener() {
        @Override
        public void acknowledged(InetSocketAddress standby, long seq) {
        }

        @Override
        public void connected(InetSocketAddress standby) {
        }

        @Override
        public void disconnected(InetSocketAddress standby, String why) {
        }

        @Override
        public void needsFullCheckpoint(InetSocketAddress standby) {
        }
    };

    /** {@code standby} appended the commit of checkpoint {@code seq} and can restore it. */
    void acknowledged(InetSocketAddress standby, long seq);

    void connected(InetSocketAddress standby);

    void disconnected(InetSocketAddress standby, String why);

    /**
     * {@code standby} fell too far behind (or its history is unrelated and the journal's chain is
     * too long to ship): capture should take a FULL checkpoint, which will be shipped from its header.
     */
    void needsFullCheckpoint(InetSocketAddress standby);
}
