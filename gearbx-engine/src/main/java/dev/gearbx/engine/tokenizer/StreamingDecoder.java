package dev.gearbx.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Assembles text from a stream of token ids without ever splitting a UTF-8 character: bytes of an
 * incomplete character are held back until the token that completes it arrives. Not thread-safe;
 * one per sequence.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    public StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds a token and returns the text that is now complete (possibly empty). */
    public String next(int tokenId) {
        pending.writeBytes(tokenizer.tokenBytes(tokenId));
        byte[] bytes = pending.toByteArray();
        int complete = completePrefixLength(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is still held back (invalid sequences decode to U+FFFD) and resets. */
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /**
     * Length of the longest prefix that does not end inside a UTF-8 character. A trailing lead byte
     * with fewer continuation bytes than it announces is held back; anything malformed is released
     * (it decodes to U+FFFD and waiting would not help).
     */
    static int completePrefixLength(byte[] b) {
        int n = b.length;
        // look back at most 3 bytes for the start of the last character
        for (int back = 1; back <= Math.min(3, n); back++) {
            int c = b[n - back] & 0xFF;
            if ((c & 0xC0) == 0x80) {
                continue; // continuation byte, keep looking for the lead byte
            }
            int need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
            if (c >= 0xF5 || (c >= 0x80 && c < 0xC2)) {
                need = 1; // invalid lead byte: release it
            }
            return need > back ? n - back : n;
        }
        return n;
    }
}
