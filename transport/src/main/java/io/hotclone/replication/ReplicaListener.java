package io.hotclone.replication;

import java.net.InetSocketAddress;
import java.time.Duration;

/** What a standby's {@link ReplicaServer} reports, from its receiver thread: calls must be cheap. */
public interface ReplicaListener {
    /** Hears nothing: for a replica whose journal is all that matters (benchmarks, tools). */
    ReplicaListener NONE = new ReplicaListener() {
        @Override
        public void primaryConnected(String service, long epoch, InetSocketAddress from) {
        }

        @Override
        public void committed(long seq, long epoch) {
        }

        @Override
        public void primarySilent(Duration silentFor) {
        }
    };

    void primaryConnected(String service, long epoch, InetSocketAddress from);

    /** A checkpoint's commit was appended and the checkpoint is readable from the replica journal. */
    void committed(long seq, long epoch);

    /** No frame (data or heartbeat) came for longer than the heartbeat timeout: the primary is suspect,
     *  and its connection was dropped. */
    void primarySilent(Duration silentFor);
}
