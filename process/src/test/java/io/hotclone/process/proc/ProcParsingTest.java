package io.hotclone.process.proc;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcParsingTest {
    @Test
    void mapsLineWithSpacesInThePathKeepsTheWholeName() {
        MapsEntry m = MapsEntry.parse(
                "7f61ad2f0000-7f61ad2f2000 rw-s 00003000 fe:00 338944                     /tmp/a file (deleted)");
        assertEquals(0x7f61ad2f0000L, m.start());
        assertEquals(0x2000, m.length());
        assertTrue(m.read() && m.write() && !m.exec() && m.shared());
        assertEquals(0x3000, m.offset());
        assertEquals(338944, m.inode());
        assertEquals("/tmp/a file (deleted)", m.name());
        assertEquals(3, m.prot());
    }

    @Test
    void anonymousMapsLineHasAnEmptyName() {
        MapsEntry m = MapsEntry.parse("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0");
        assertEquals("", m.name());
        assertFalse(m.shared());
        assertEquals(0, m.inode());
    }

    @Test
    void vsyscallAboveTheSignedRangeParses() {
        MapsEntry m = MapsEntry.parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]");
        assertEquals(0xffffffffff600000L, m.start());
        assertEquals(4096, m.length());
        assertEquals(4, m.prot());
    }

    @Test
    void statParsingSkipsACommWithSpacesAndParentheses() {
        String line = "3902 (a (b) c) S 3900 3900 1086 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 54688 3133440 412 "
                + "18446744073709551615 94795415040000 94795415059881 140726039950464 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 "
                + "94795415075888 94795415077504 94796011520000 140726039951903 140726039951923 140726039951923 "
                + "140726039953387 0";
        ProcStat s = ProcStat.parse(line);
        assertEquals("a (b) c", s.comm());
        assertEquals('S', s.state());
        assertEquals(3900, s.ppid());
        assertEquals(1086, s.session());
        assertEquals(94795415040000L, s.startCode());
        assertEquals(94795415059881L, s.endCode());
        assertEquals(140726039950464L, s.startStack());
        assertEquals(94795415075888L, s.startData());
        assertEquals(94795415077504L, s.endData());
        assertEquals(94796011520000L, s.startBrk());
        assertEquals(140726039951903L, s.argStart());
        assertEquals(140726039953387L, s.envEnd());
    }

    @Test
    void fdInfoFlagsAreOctal() {
        FdInfo info = FdInfo.parse(3, List.of("pos:\t42", "flags:\t02102001", "mnt_id:\t23", "ino:\t3"));
        assertEquals(42, info.pos());
        assertEquals(02102001, info.flags());
        assertEquals(23, info.mountId());
    }

    @Test
    void ownProcessIsReadable() {
        ProcFs self = new ProcFs((int) ProcessHandle.current().pid());
        assertTrue(self.maps().stream().anyMatch(m -> m.name().equals("[stack]")));
        assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), self.stat().ppid());
        assertTrue(self.fds().contains(0));
    }
}
