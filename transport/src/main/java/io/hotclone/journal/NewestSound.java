package io.hotclone.journal;

import java.util.Optional;

/**
 * The newest committed checkpoint whose chain is whole: what a restore takes when not told,
 * and what newer it passes over, damaged or lost, if anything ({@link Journal#newestSound()}).
 *
 * @param passedOver what makes a newer checkpoint unrestorable: a restore must not pass over
 *                   it without saying so
 */
public record NewestSound(long seq, Optional<String> passedOver) {
}
