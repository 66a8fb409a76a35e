package dev.gearbx.reactive.client;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a server-sent event stream, fed in arbitrary byte chunks, into the data of its events
 * (the {@code data:} lines of an event joined by newlines, dispatched at a blank line). Lines end
 * with LF or CRLF; comments ({@code :...}) and the fields {@code event}, {@code id}, {@code retry}
 * are skipped. Strict where a lenient parser would hide a broken server: any other field, or a
 * line longer than the limit, is an {@link OpenAiProtocolException}. Not thread-safe.
 */
final class SseDecoder {
    private final int maxLineBytes;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;

    SseDecoder(int maxLineBytes) {
        this.maxLineBytes = maxLineBytes;
    }

    /** Feeds bytes; returns the data of every event completed by them. */
    List<String> feed(byte[] bytes) {
        List<String> events = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                append(bytes, start, i - start);
                line(events);
                start = i + 1;
            }
        }
        append(bytes, start, bytes.length - start);
        return events;
    }

    /** Whether bytes of an unfinished line or event are pending. */
    boolean pending() {
        return line.size() > 0 || hasData;
    }

    private void append(byte[] bytes, int from, int length) {
        if (line.size() + length > maxLineBytes) {
            throw new OpenAiProtocolException("malformed server-sent events: a line is longer than " + maxLineBytes + " bytes");
        }
        line.write(bytes, from, length);
    }

    private void line(List<String> events) {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (text.isEmpty()) {
            if (hasData) {
                events.add(data.toString());
                data.setLength(0);
                hasData = false;
            }
            return;
        }
        if (text.startsWith(":")) {
            return;
        }
        int colon = text.indexOf(':');
        String field = colon < 0 ? text : text.substring(0, colon);
        String value = colon < 0 ? "" : text.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        switch (field) {
            case "data" -> {
                if (hasData) {
                    data.append('\n');
                }
                data.append(value);
                hasData = true;
            }
            case "event", "id", "retry" -> { }
            default -> throw new OpenAiProtocolException("malformed server-sent events: unexpected line '"
                    + abbreviate(text) + "'");
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
