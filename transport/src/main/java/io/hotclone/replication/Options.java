package io.hotclone.replication;

import java.time.Duration;

/**
 * The tuning of a replication link.
 *
 * @param heartbeat   how often each side sends a frame when it has nothing else to send
 * @param missed      heartbeats missed before the other side is declared silent
 * @param maxLagBytes page bytes of committed checkpoints a standby may lag behind before the
 *                    sender stops shipping them and waits for a full checkpoint
 */
record Options(Duration heartbeat, int missed, long maxLagBytes) {
    static final Options DEFAULT = new Options(Duration.ofMillis(100), 5, 512L << 20);
    /** The longest wait between two attempts to connect to a standby. */
    static final Duration MAX_BACKOFF = Duration.ofMillis(500);

    Duration timeout() {
        return heartbeat.multipliedBy(missed);
    }
}
