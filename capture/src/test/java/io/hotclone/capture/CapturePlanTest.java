package io.hotclone.capture;

import org.junit.jupiter.api.Test;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import static io.hotclone.capture.CapturePlan.How.FORKED;
import static io.hotclone.capture.CapturePlan.How.STAGED;
import static io.hotclone.capture.CapturePlan.How.STREAMED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** The choice of a checkpoint's page capture from the facts at its barrier. */
class CapturePlanTest {
    private static final long MIB = 1L << 20;
    private static final LongSupplier GIB_RESIDENT = () -> 1024 * MIB;
    private static final BooleanSupplier FORKABLE = () -> true;
    private static final BooleanSupplier NOT_FORKABLE = () -> false;

    @Test
    void aFewPagesTheStageHoldsAreStagedWithoutAskingWhetherTheProgramMayBeForked() {
        CapturePlan plan = CapturePlan.decide(true, MIB, true, GIB_RESIDENT, true,
                () -> fail("forkable asked though staging costs less"));
        assertEquals(STAGED, plan.how());
        assertEquals(0, plan.stageShort());
    }

    @Test
    void pagesCheaperToCopyThanToForkButMoreThanTheStageHoldsAreForkedAndTheStageGrowsAfter() {
        CapturePlan plan = CapturePlan.decide(true, 2 * MIB, true, GIB_RESIDENT, false, FORKABLE);
        assertEquals(FORKED, plan.how());
        assertEquals(2 * MIB, plan.stageShort());
    }

    @Test
    void pagesDearerToCopyThanToForkAreForkedWithoutGrowingTheStage() {
        CapturePlan plan = CapturePlan.decide(true, 100 * MIB, true, GIB_RESIDENT, true, FORKABLE);
        assertEquals(FORKED, plan.how());
        assertEquals(0, plan.stageShort());
    }

    @Test
    void aFullCheckpointIsForkedWhenTheProgramMayBeAndStreamedWhenNot() {
        LongSupplier unasked = () -> fail("resident memory asked for a full checkpoint");
        assertEquals(FORKED, CapturePlan.decide(false, Long.MAX_VALUE, false, unasked, false, FORKABLE).how());
        assertEquals(STREAMED, CapturePlan.decide(false, Long.MAX_VALUE, false, unasked, false, NOT_FORKABLE).how());
    }

    @Test
    void aProgramThatMayNotBeForkedHasStageablePagesStagedAndTheRestStreamed() {
        assertEquals(STAGED, CapturePlan.decide(true, 100 * MIB, true, GIB_RESIDENT, true, NOT_FORKABLE).how());
        assertEquals(STREAMED, CapturePlan.decide(true, 200 * MIB, false, GIB_RESIDENT, false, NOT_FORKABLE).how());
    }
}
