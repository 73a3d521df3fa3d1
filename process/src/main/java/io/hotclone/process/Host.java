package io.hotclone.process;

import io.hotclone.bindings.Native;
import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.Sysconf;
import io.hotclone.bindings.linux.utsname;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Facts about this machine, read once from the kernel (uname, sysconf): an image records them so
 * a restore elsewhere can check them, and {@link KernelFeatures} reports them beside what it probes.
 */
public final class Host {
    /** uname -m (hotclone's register layouts are x86_64's). */
    public static final String MACHINE;
    /** uname -r */
    public static final String KERNEL_RELEASE;
    /** Bytes per base page. */
    public static final int PAGE_SIZE;

    static {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cs = Native.callState();
            MemorySegment u = utsname.allocate(arena);
            Native.check(Libc.uname(cs, u), cs, "uname");
            MACHINE = utsname.machine(u).getString(0);
            KERNEL_RELEASE = utsname.release(u).getString(0);
            PAGE_SIZE = (int) Native.check(Libc.sysconf(cs, Sysconf._SC_PAGESIZE), cs, "sysconf(_SC_PAGESIZE)");
        }
    }

    private Host() {
    }
}
