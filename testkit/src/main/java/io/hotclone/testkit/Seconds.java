package io.hotclone.testkit;

/** The wall clock's seconds, by which a one-second journal rolls to its next queue file. */
public final class Seconds {
    private Seconds() {
    }

    /** Waits for the wall clock to enter the next second (at most 3 s). */
    public static void awaitNext() {
        long second = System.currentTimeMillis() / 1000;
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.currentTimeMillis() / 1000 == second) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the clock did not reach the next second within 3 s");
            }
            Thread.onSpinWait();
        }
    }
}
