package io.hotclone.image;

/** What backs a memory area, which decides how it is captured and rebuilt. */
public enum AreaKind {
    /** Private anonymous memory: contents saved. */
    ANONYMOUS,
    /** The brk heap: private anonymous, and the mm brk fields point into it. */
    HEAP,
    /** The main thread's stack: private anonymous, grows down. */
    STACK,
    /** A file mapping: by reference to path + offset; private ones also carry written pages. */
    FILE,
    /** MAP_SHARED | MAP_ANONYMOUS memory: contents saved. */
    SHARED_ANONYMOUS,
    /** An attach of a System V shared memory segment: its contents travel with the segment ({@link SysvShm}). */
    SYSV_SHM,
    /** The kernel's vDSO: moved into place, never copied. */
    VDSO,
    /** The kernel's vvar data page(s): moved with the vDSO. */
    VVAR,
    /** Since Linux 6.13 the clock pages split from [vvar]: moved with the vDSO. */
    VVAR_VCLOCK,
    /** The legacy fixed [vsyscall] page: the kernel provides it, nothing to do. */
    VSYSCALL
}
