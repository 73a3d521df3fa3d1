package io.hotclone.jmh;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** A secondary result: the freeze of the checkpoints an iteration takes, summed (divide by the count). */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class Freeze {
    public double freezeMicros;

    @Setup(Level.Iteration)
    public void clear() {
        freezeMicros = 0;
    }
}
