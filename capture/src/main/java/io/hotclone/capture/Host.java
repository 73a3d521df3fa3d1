package io.hotclone.capture;

import io.hotclone.bindings.HotcloneException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about this machine that an image records so a restore elsewhere can check them. */
public final class Host {
    /** hotclone captures x86_64 programs only. */
    public static final String MACHINE = "x86_64";
    public static final int PAGE_SIZE = 4096;

    private Host() {
    }

    public static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            throw new HotcloneException("cannot read /proc/sys/kernel/osrelease: " + e.getMessage(), e);
        }
    }
}
