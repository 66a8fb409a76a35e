package dev.gearbx.reactive.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import org.jspecify.annotations.Nullable;

/**
 * Python's {@code str} (and {@code dict.items()}) methods that Hugging Face chat templates call, which
 * Jinjava would otherwise look up as Java methods: {@code startswith}, {@code endswith}, {@code strip},
 * {@code lstrip}, {@code rstrip}, {@code split} (a literal separator, trailing empty parts kept, as in
 * Python), {@code upper}, {@code lower}, {@code title}, {@code capitalize}, {@code join}, {@code items}.
 * Anything else falls through to Jinjava's own resolution.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public @Nullable Object invoke(ELContext context, @Nullable Object base, @Nullable Object method,
            Class<?> @Nullable [] paramTypes, Object @Nullable [] params) {
        if (base == null || method == null) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = base instanceof String s ? string(s, method.toString(), args)
                : base instanceof Map<?, ?> m && method.toString().equals("items") && args.length == 0 ? items(m)
                : null;
        if (result != null) {
            context.setPropertyResolved(true);
        }
        return result;
    }

    private static @Nullable Object string(String s, String method, Object[] args) {
        return switch (method) {
            case "startswith" -> args.length == 1 ? anyMatch(args[0], s::startsWith) : null;
            case "endswith" -> args.length == 1 ? anyMatch(args[0], s::endsWith) : null;
            case "strip" -> args.length <= 1 ? rstrip(lstrip(s, chars(args)), chars(args)) : null;
            case "lstrip" -> args.length <= 1 ? lstrip(s, chars(args)) : null;
            case "rstrip" -> args.length <= 1 ? rstrip(s, chars(args)) : null;
            case "split" -> args.length <= 1 ? split(s, chars(args)) : null;
            case "upper" -> args.length == 0 ? s.toUpperCase(Locale.ROOT) : null;
            case "lower" -> args.length == 0 ? s.toLowerCase(Locale.ROOT) : null;
            case "title" -> args.length == 0 ? title(s) : null;
            case "capitalize" -> args.length == 0 ? capitalize(s) : null;
            case "join" -> args.length == 1 && args[0] instanceof Iterable<?> parts ? join(s, parts) : null;
            default -> null;
        };
    }

    private static Boolean anyMatch(Object prefixes, java.util.function.Predicate<String> test) {
        if (prefixes instanceof Collection<?> c) {
            return c.stream().anyMatch(p -> test.test(String.valueOf(p)));
        }
        return test.test(String.valueOf(prefixes));
    }

    /** The characters argument, or null for Python's default (whitespace). */
    private static @Nullable String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    private static boolean strippable(char c, @Nullable String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static String lstrip(String s, @Nullable String chars) {
        int i = 0;
        while (i < s.length() && strippable(s.charAt(i), chars)) {
            i++;
        }
        return s.substring(i);
    }

    private static String rstrip(String s, @Nullable String chars) {
        int i = s.length();
        while (i > 0 && strippable(s.charAt(i - 1), chars)) {
            i--;
        }
        return s.substring(0, i);
    }

    private static List<String> split(String s, @Nullable String separator) {
        List<String> parts = new ArrayList<>();
        if (separator == null) {
            for (String p : s.strip().split("\\s+")) {
                if (!p.isEmpty()) {
                    parts.add(p);
                }
            }
            return parts;
        }
        if (separator.isEmpty()) {
            throw new IllegalArgumentException("empty separator");
        }
        int from = 0;
        for (int at = s.indexOf(separator); at >= 0; at = s.indexOf(separator, from)) {
            parts.add(s.substring(from, at));
            from = at + separator.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean previousCased = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return b.toString();
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String join(String separator, Iterable<?> parts) {
        StringBuilder b = new StringBuilder();
        boolean first = true;
        for (Object p : parts) {
            if (!first) {
                b.append(separator);
            }
            b.append(p);
            first = false;
        }
        return b.toString();
    }

    private static List<Map.Entry<?, ?>> items(Map<?, ?> m) {
        return new ArrayList<>(m.entrySet());
    }

    // Property access is left to Jinjava's own resolvers.

    @Override
    public @Nullable Object getValue(ELContext context, @Nullable Object base, Object property) {
        return null;
    }

    @Override
    public @Nullable Class<?> getType(ELContext context, @Nullable Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, @Nullable Object base, Object property, @Nullable Object value) {}

    @Override
    public boolean isReadOnly(ELContext context, @Nullable Object base, Object property) {
        return true;
    }

    @Override
    public @Nullable Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, @Nullable Object base) {
        return null;
    }

    @Override
    public @Nullable Class<?> getCommonPropertyType(ELContext context, @Nullable Object base) {
        return null;
    }
}
