package io.hotclone.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * How up to date a standby's journal is, as it stands in an election: the epoch of its last
 * committed checkpoint first, then that checkpoint's seq. The epoch comes first because a
 * higher seq of an older reign is a history the service left: an old primary that rejoined
 * holds such checkpoints until the new primary has reset its journal, and must not win with them.
 */
public record Standing(long epoch, long seq) implements Comparable<Standing> {
    private static final Comparator<Standing> ORDER = Comparator.comparingLong(Standing::epoch)
            .thenComparingLong(Standing::seq);

    @Override
    public int compareTo(Standing other) {
        return ORDER.compare(this, other);
    }

    byte[] encode() {
        return (epoch + " " + seq).getBytes(StandardCharsets.UTF_8);
    }

    static Standing decode(byte[] data) {
        String[] fields = new String(data, StandardCharsets.UTF_8).split(" ");
        return new Standing(Long.parseLong(fields[0]), Long.parseLong(fields[1]));
    }

    @Override
    public String toString() {
        return "epoch " + epoch + " seq " + seq;
    }
}
