package io.hotclone.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hotclone.capture.Checkpointer;
import org.junit.jupiter.api.Test;

class SummaryTest {
    private static Checkpointer.Result frozen(long seq, long micros) {
        return new Checkpointer.Result(seq, 1, 1, 4096, 0, micros, micros, false);
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
    void saysSoWhenNoCheckpointWasTaken() {
        assertEquals("no checkpoint, 0 failed", new Summary().toString());
    }
}
