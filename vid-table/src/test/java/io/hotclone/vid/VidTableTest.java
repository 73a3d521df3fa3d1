package io.hotclone.vid;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VidTableTest {
    private final VidTable table = VidTable.of(Map.of(1, 27422, 3, 27431, 2, 27430));

    @Test
    void translatesBothWays() {
        assertEquals(OptionalInt.of(27430), table.real(2));
        assertEquals(OptionalInt.of(3), table.virtual(27431));
        assertTrue(table.real(4).isEmpty());
        assertTrue(table.virtual(1).isEmpty(), "a vid is no real id");
    }

    @Test
    void rendersByVidAndParsesBack() {
        assertEquals("1=27422 2=27430 3=27431", table.render());
        assertEquals(table, VidTable.parse(table.render()));
        assertEquals(VidTable.EMPTY, VidTable.parse(""));
    }

    @Test
    void refusesTextThatIsNoTableQuotingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VidTable.parse("1=2 x=3"));
        assertEquals("'x=3' in vid table '1=2 x=3' is not VID=REAL", e.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> VidTable.parse("1=2 1=3"));
        assertTrue(twice.getMessage().startsWith("'1=3' in vid table '1=2 1=3' is not a pair VID=REAL, each vid once"),
                twice.getMessage());
    }
}
