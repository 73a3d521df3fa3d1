package io.hotclone.launcher;

import io.hotclone.vid.VidTable;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.capture.Checkpointer;
import org.junit.jupiter.api.Test;

class SummaryTest {
    private static Checkpointer.Result frozen(long seq, long micros) {
        return new Checkpointer.Result(seq, 1, 1, 1, 4096, 0, micros, micros, false, VidTable.EMPTY, 1);
    }

    @Test
    void reportsTheFreezeDistributionOfEveryCheckpoint() {
        Summary summary = new Summary();
        for (int i = 1; i <= 100; i++) {
            summary.checkpointed(frozen(i, i <= 98 ? 4_950 : 40_000 + i)); // 98 short freezes, two long ones; a percentile is rounded up to 100 us
        }
        assertEquals("100 checkpoints (last seq 100; freeze mean 5652 us, median 5000 us, p99 40100 us, max 40100 us),"
                + " 0 failed", summary.toString());
    }

    @Test
    void namesTheFailuresByKindAndTheLongestTimeWithoutACommittedCheckpoint() {
        long[] now = {0};
        Summary summary = new Summary(() -> now[0]);
        now[0] = 100_000_000L;
        summary.checkpointed(frozen(1, 1_000));
        now[0] = 200_000_000L;
        summary.checkpointFailed(new HotcloneException("cannot checkpoint process 7: it has 2 threads"));
        now[0] = 300_000_000L;
        summary.checkpointFailed(new HotcloneException("disk full"));
        now[0] = 2_300_000_000L;
        summary.checkpointed(frozen(2, 1_000));
        now[0] = 2_400_000_000L;
        assertEquals("2 checkpoints (last seq 2; freeze mean 1000 us, median 1000 us, p99 1000 us, max 1000 us), 2 failed"
                + " (capture 2, last: disk full); longest without a committed checkpoint 2200 ms", summary.toString());
    }

    @Test
    void saysSoWhenNoCheckpointWasTaken() {
        assertEquals("no checkpoint, 0 failed", new Summary().toString());
    }
}
