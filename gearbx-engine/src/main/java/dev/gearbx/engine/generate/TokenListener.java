package dev.gearbx.engine.generate;

/** Receives each generated token as it is produced; return false to stop the generation. */
@FunctionalInterface
public interface TokenListener {
    boolean onToken(GeneratedToken token);
}
