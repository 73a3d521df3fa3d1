package io.hotclone.image;

/** Whether a checkpoint stands alone or only adds the pages written since its base. */
public enum CheckpointKind { FULL, INCREMENTAL }
