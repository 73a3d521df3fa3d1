/**
 * The hand-written layer over the generated {@link io.hotclone.bindings.linux} bindings: errno
 * becomes a {@link io.hotclone.bindings.SyscallException} naming the call ({@link io.hotclone.bindings.Native},
 * {@link io.hotclone.bindings.CallState}).
 */
package io.hotclone.bindings;
