package io.hotclone.bindings;

import io.hotclone.bindings.linux.Libc;
import io.hotclone.bindings.linux.Mman;
import io.hotclone.bindings.linux.Pagemap;
import io.hotclone.bindings.linux.SyscallsAmd64;
import io.hotclone.bindings.linux.Userfaultfd;
import io.hotclone.bindings.linux.hc_kernel_sigaction;
import io.hotclone.bindings.linux.page_region;
import io.hotclone.bindings.linux.pm_scan_arg;
import io.hotclone.bindings.linux.prctl_mm_map;
import io.hotclone.bindings.linux.siginfo_t;
import io.hotclone.bindings.linux.user_regs_struct;
import io.hotclone.bindings.linux.utsname;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generated bindings against x86_64 ABI facts known independently of the headers. */
class GeneratedLayoutsTest {

    @Test
    void layoutsMatchTheX8664Abi() {
        assertEquals(216, user_regs_struct.sizeof());
        assertEquals(128, user_regs_struct.rip$offset());
        assertEquals(120, user_regs_struct.orig_rax$offset());
        assertEquals(128, siginfo_t.sizeof());
        assertEquals(16, siginfo_t.si_pid$offset());
        assertEquals(96, pm_scan_arg.sizeof());
        assertEquals(24, page_region.sizeof());
        assertEquals(32, hc_kernel_sigaction.sizeof());
        assertEquals(104, prctl_mm_map.sizeof());
        assertEquals(390, utsname.sizeof());
        for (Class<?> c : List.of(user_regs_struct.class, siginfo_t.class, pm_scan_arg.class, prctl_mm_map.class)) {
            assertEquals(sizeof(c), layout(c).byteSize(), c.getSimpleName() + ": layout size differs from sizeof");
        }
    }

    @Test
    void constantsMatchTheKernelAbi() {
        assertEquals(9, SyscallsAmd64.SYS_mmap);
        assertEquals(435, SyscallsAmd64.SYS_clone3);
        assertEquals(438, SyscallsAmd64.SYS_pidfd_getfd);
        assertEquals(0x100000, Mman.MAP_FIXED_NOREPLACE);
        assertEquals(1 << 15, Userfaultfd.UFFD_FEATURE_WP_ASYNC);
        assertEquals(0xc0606610L, Pagemap.PAGEMAP_SCAN);
        assertEquals(0xc018aa3fL, Userfaultfd.UFFDIO_API);
    }

    @Test
    void aStructRoundTripsThroughItsAccessors() {
        try (Arena arena = Arena.ofConfined()) {
            var regs = user_regs_struct.allocate(arena);
            user_regs_struct.rip(regs, 0x401000L);
            assertEquals(0x401000L, regs.get(java.lang.foreign.ValueLayout.JAVA_LONG, 128));
            assertEquals(0x401000L, user_regs_struct.rip(regs));
        }
    }

    /** Makes every downcall handle and every layout, so a bad descriptor or symbol fails here, not in production. */
    @Test
    void everyGeneratedHandleLinksAndEveryLayoutBuilds() throws Exception {
        var handles = new ArrayList<String>();
        for (Method m : Libc.class.getMethods()) {
            if (m.getName().endsWith("$handle")) {
                m.invoke(null);
                handles.add(m.getName());
            }
        }
        assertTrue(handles.size() > 50, "expected every libc function, found " + handles);
        for (Class<?> c : generatedStructs()) {
            assertEquals(sizeof(c), layout(c).byteSize(), c.getSimpleName());
        }
    }

    private static List<Class<?>> generatedStructs() throws IOException, URISyntaxException, ClassNotFoundException {
        Path dir = Path.of(Libc.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/hotclone/bindings/linux");
        var structs = new ArrayList<Class<?>>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".class") || name.contains("$")) continue;
                Class<?> c = Class.forName("io.hotclone.bindings.linux." + name.replace(".class", ""));
                if (Stream.of(c.getMethods()).anyMatch(m -> m.getName().equals("layout") && Modifier.isStatic(m.getModifiers()))) {
                    structs.add(c);
                }
            }
        }
        assertTrue(structs.size() > 20, "expected the generated structs, found " + structs);
        return structs;
    }

    private static long sizeof(Class<?> c) {
        try {
            return (long) c.getMethod("sizeof").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static GroupLayout layout(Class<?> c) {
        try {
            return (GroupLayout) c.getMethod("layout").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
