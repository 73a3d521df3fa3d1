package io.hotclone.journal;

import io.hotclone.image.ThreadState;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What `hotclone journal show` prints for a record. */
class RecordTextTest {

    @Test
    void anAreaShowsAddressesInHexAndProtAsLetters() {
        assertEquals("start=0x7f0000000000 end=0x7f0000020000 prot=r-x shared=false kind=FILE "
                        + "path=\"/usr/lib/x86_64-linux-gnu/libc.so.6\" offset=163840 "
                        + "file=(device=0x805 inode=1234569 size=98767 mtimeNanos=1700000000987654323) sinceSeq=1",
                RecordText.describe(Images.fileArea()));
    }

    @Test
    void aThreadShowsRegistersByNameAndSiginfoBySignal() {
        ByteBuffer regs = ByteBuffer.allocate(27 * 8).order(ByteOrder.LITTLE_ENDIAN);
        regs.putLong(16 * 8, 0x401000L); // rip
        regs.putLong(19 * 8, 0x7ffd_0000_1000L); // rsp
        ByteBuffer siginfo = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 10).putInt(8, -6);
        ThreadState t = new ThreadState(77, regs.array(), new byte[2696], 0x4000L, List.of(siginfo.array()),
                null, null, 2, "main", 0, null);

        String text = RecordText.describe(t);

        assertTrue(text.startsWith("tid=77 xstate=2696 bytes blockedMask=0x4000 "
                + "pending=[siginfo(signo=10 errno=0 code=-6)] altstack=null rseq=null vtid=2 name=\"main\" clearChildTid=0x0"
                + " robustList=null\n    r15 "), text);
        assertTrue(text.contains("rip      0x0000000000401000"), text);
        assertTrue(text.contains("rsp      0x00007ffd00001000"), text);
        assertEquals(1 + 27 / 4 + 1, text.lines().count(), text);
    }

    @Test
    void aProcessShowsAuxvPairsAndMmAddresses() {
        String text = RecordText.describe(Images.process());
        assertTrue(text.contains("umask=022"), text);
        assertTrue(text.contains("mm=(startCode=0x555500001000 "), text);
        assertTrue(text.contains("rlimits=[(resource=7 soft=1024 hard=4096), "), text);
        assertTrue(text.matches("(?s).*auxv=\\{.*\\}.*"), text);
    }
}
