package dev.gearbx.reactive.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.lang.reflect.Array;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@code tojson} as Hugging Face defines it for chat templates: Python's {@code json.dumps(x,
 * ensure_ascii=False, indent=indent)}, so {@code ", "} and {@code ": "} separators without indent,
 * {@code ","} and newlines with it, and non-ASCII text left as is. Replaces Jinjava's compact
 * {@code tojson}, which ignores {@code indent}.
 */
final class JsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(@Nullable Object var, JinjavaInterpreter interpreter, String... args) {
        return dumps(var, args.length > 0 ? Integer.parseInt(args[0].strip()) : -1);
    }

    @Override
    public Object filter(@Nullable Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        return dumps(var, indent instanceof Number n ? n.intValue() : indent == null ? -1 : Integer.parseInt(indent.toString().strip()));
    }

    /** {@code json.dumps} of a template value; {@code indent} below 0 means none. */
    static String dumps(@Nullable Object value, int indent) {
        StringBuilder out = new StringBuilder();
        write(out, value, indent, 0);
        return out.toString();
    }

    private static void write(StringBuilder out, @Nullable Object v, int indent, int depth) {
        switch (v) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d when d.isNaN() -> out.append("NaN");
            case Double d when d.isInfinite() -> out.append(d > 0 ? "Infinity" : "-Infinity");
            case Float f -> write(out, f.doubleValue(), indent, depth);
            case Number n -> out.append(n);
            case CharSequence s -> string(out, s.toString());
            case Map<?, ?> m -> {
                if (m.isEmpty()) {
                    out.append("{}");
                    return;
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    separator(out, first, indent, depth + 1);
                    string(out, String.valueOf(e.getKey()));
                    out.append(": ");
                    write(out, e.getValue(), indent, depth + 1);
                    first = false;
                }
                close(out, indent, depth, '}');
            }
            case Iterable<?> it -> {
                if (!it.iterator().hasNext()) {
                    out.append("[]");
                    return;
                }
                out.append('[');
                boolean first = true;
                for (Object e : it) {
                    separator(out, first, indent, depth + 1);
                    write(out, e, indent, depth + 1);
                    first = false;
                }
                close(out, indent, depth, ']');
            }
            default -> {
                if (v.getClass().isArray()) {
                    int n = Array.getLength(v);
                    java.util.List<Object> list = new java.util.ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        list.add(Array.get(v, i));
                    }
                    write(out, list, indent, depth);
                } else {
                    string(out, v.toString());
                }
            }
        }
    }

    private static void separator(StringBuilder out, boolean first, int indent, int depth) {
        if (!first) {
            out.append(indent < 0 ? ", " : ",");
        }
        newline(out, indent, depth);
    }

    private static void close(StringBuilder out, int indent, int depth, char bracket) {
        newline(out, indent, depth);
        out.append(bracket);
    }

    private static void newline(StringBuilder out, int indent, int depth) {
        if (indent >= 0) {
            out.append('\n').repeat(' ', indent * depth);
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
