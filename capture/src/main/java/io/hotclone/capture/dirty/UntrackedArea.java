package io.hotclone.capture.dirty;

import io.hotclone.image.MemoryArea;

/**
 * An area whose pages travel in checkpoints but whose writes the tracker cannot see: every
 * checkpoint must carry it whole.
 *
 * @param reason why, for the user: "MAP_SHARED ...", or the kernel's refusal
 */
public record UntrackedArea(MemoryArea area, String reason) {
}
