package io.hotclone.capture.memory;

import io.hotclone.image.AreaKind;
import io.hotclone.image.MemoryArea;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageSelectionTest {
    private static MemoryArea area(AreaKind kind, boolean shared) {
        return new MemoryArea(0x1000, 0x3000, 3, shared, kind, "", 0, null, 1);
    }

    @Test
    void privateMemoryCarriesTouchedPagesOnly() {
        MemoryArea anon = area(AreaKind.ANONYMOUS, false);
        assertTrue(PageDumper.carried(anon, Pagemap.PRESENT));
        assertTrue(PageDumper.carried(anon, Pagemap.SWAPPED));
        assertFalse(PageDumper.carried(anon, 0));
    }

    @Test
    void privateFileMappingCarriesOnlyWrittenPages() {
        MemoryArea file = area(AreaKind.FILE, false);
        assertFalse(PageDumper.carried(file, Pagemap.PRESENT | Pagemap.FILE_OR_SHARED), "clean page cache page");
        assertTrue(PageDumper.carried(file, Pagemap.PRESENT), "copied-on-write page");
        assertTrue(PageDumper.carried(file, Pagemap.SWAPPED), "written, then swapped out");
        assertFalse(PageDumper.carried(file, 0));
    }

    @Test
    void aWriteProtectMarkerOnANeverTouchedPageIsNoPage() {
        long marker = 0x420000000000003fL; // as /proc/PID/pagemap shows it after userfaultfd arms the page
        assertFalse(PageDumper.carried(area(AreaKind.ANONYMOUS, false), marker));
        assertFalse(PageDumper.carried(area(AreaKind.FILE, false), marker));
        assertTrue(PageDumper.carried(area(AreaKind.ANONYMOUS, false), Pagemap.SWAPPED | 3), "a page on swap device 3");
    }

    @Test
    void sharedFileMappingCarriesNothing() {
        assertFalse(PageDumper.carried(area(AreaKind.FILE, true), Pagemap.PRESENT));
    }

    @Test
    void sharedAnonymousMemoryCarriesEveryPage() {
        assertTrue(PageDumper.carried(area(AreaKind.SHARED_ANONYMOUS, true), 0));
    }

    @Test
    void kernelMappingsCarryNothing() {
        assertFalse(PageDumper.carried(area(AreaKind.VDSO, false), Pagemap.PRESENT));
    }
}
