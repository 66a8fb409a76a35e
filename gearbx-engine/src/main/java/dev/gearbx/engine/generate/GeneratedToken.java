package dev.gearbx.engine.generate;

/**
 * One generated token.
 *
 * @param index 0 for the first generated token
 * @param tokenId the token's id
 * @param text the text this token completes (may be empty while a UTF-8 character is incomplete)
 * @param logProbability natural log of the token's probability under the model (before sampling filters)
 * @param stepNanos time of the forward step and sampling that produced it
 */
public record GeneratedToken(int index, int tokenId, String text, float logProbability, long stepNanos) {}
