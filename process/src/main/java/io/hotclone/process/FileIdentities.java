package io.hotclone.process;

import io.hotclone.bindings.HotcloneException;
import io.hotclone.process.FileIdentity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Reads the identity of a file (following links) the way a restore checks it. */
public final class FileIdentities {
    private FileIdentities() {
    }

    public static FileIdentity of(Path path) {
        try {
            Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino,size,lastModifiedTime");
            return new FileIdentity((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"),
                    ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS));
        } catch (IOException e) {
            throw new HotcloneException("cannot stat " + path + ": " + e.getMessage(), e);
        }
    }

    /** Explains, or returns null, how {@code now} differs from what a checkpoint saw. */
    public static String difference(FileIdentity saved, FileIdentity now) {
        if (saved.device() != now.device() || saved.inode() != now.inode()) {
            return "it is another file now (device/inode changed)";
        }
        if (saved.size() != now.size()) {
            return "its size changed from " + saved.size() + " to " + now.size() + " bytes";
        }
        if (saved.mtimeNanos() != now.mtimeNanos()) {
            return "it was modified after the checkpoint";
        }
        return null;
    }
}
