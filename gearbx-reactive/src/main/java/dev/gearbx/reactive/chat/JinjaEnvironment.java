package dev.gearbx.reactive.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.lang.reflect.Method;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jinjava.javax.el.CompositeELResolver;

/**
 * The one Jinjava set up like Hugging Face's chat template environment (jinja2 with {@code
 * trim_blocks}, {@code lstrip_blocks}, {@code raise_exception}, {@code strftime_now} and a Python
 * {@code tojson}), plus the small source rewrites for Jinja syntax Jinjava does not parse.
 *
 * <p>What differs from jinja2, and how it is bridged:
 *
 * <ul>
 *   <li>{@code {{- ... -}}} whitespace control and natural operator precedence are Jinjava legacy
 *       overrides, switched on here;
 *   <li>Python string methods ({@code startswith}, {@code strip}, {@code split} ...) come from
 *       {@link PythonStringMethods};
 *   <li>the reversing slice {@code x[::-1]} is rewritten to {@code x|reverse} (other stepped slices
 *       are not supported);
 *   <li>keyword arguments of {@code namespace(...)} are parenthesised, because Jinjava binds
 *       {@code name=a|length - 1} as {@code (name=a|length) - 1}.
 * </ul>
 */
final class JinjaEnvironment {
    /** Context variable holding the {@link Clock} that {@code strftime_now} reads. */
    static final String CLOCK_VARIABLE = "__gearbx_clock__";

    static final Jinjava JINJAVA = create();

    private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*:\\s*:\\s*-\\s*1\\s*]");
    private static final Pattern NAMESPACE_CALL = Pattern.compile("\\bnamespace\\s*\\(");
    private static final Pattern KEYWORD = Pattern.compile("^(\\s*[A-Za-z_]\\w*\\s*=)(?!=)(.*)$", Pattern.DOTALL);

    private JinjaEnvironment() {}

    private static Jinjava create() {
        LegacyOverrides overrides = LegacyOverrides.newBuilder()
                .withUseNaturalOperatorPrecedence(true)
                .withUseTrimmingForNotesAndExpressions(true)
                .withParseWhitespaceControlStrictly(true)
                .withKeepNullableLoopValues(true)
                .build();
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(overrides)
                .withElResolver(resolver)
                .withLocale(Locale.ROOT)
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFilter(new JsonFilter());
        jinjava.getGlobalContext().registerFunction(function("raise_exception", "raiseException"));
        jinjava.getGlobalContext().registerFunction(function("strftime_now", "strftimeNow"));
        return jinjava;
    }

    private static ELFunctionDefinition function(String name, String method) {
        try {
            Method m = JinjaEnvironment.class.getDeclaredMethod(method, String.class);
            m.setAccessible(true);
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code raise_exception(message)}: the template refuses the conversation. */
    static String raiseException(String message) {
        throw new TemplateRaisedException(message);
    }

    /** {@code strftime_now(format)}: the current time in a Python {@code strftime} format. */
    static String strftimeNow(String format) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        Object clock = interpreter == null ? null : interpreter.getContext().get(CLOCK_VARIABLE);
        return strftime(ZonedDateTime.now(clock instanceof Clock c ? c : Clock.systemDefaultZone()), format);
    }

    /** Python's {@code strftime} directives in the C locale. */
    static String strftime(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean unpadded = false;
            if (d == '-' && i + 1 < format.length()) {
                unpadded = true;
                d = format.charAt(++i);
            }
            String pad2 = unpadded ? "%d" : "%02d";
            switch (d) {
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'd' -> out.append(String.format(pad2, t.getDayOfMonth()));
                case 'e' -> out.append(String.format("%2d", t.getDayOfMonth()));
                case 'm' -> out.append(String.format(pad2, t.getMonthValue()));
                case 'y' -> out.append(String.format("%02d", t.getYear() % 100));
                case 'Y' -> out.append(t.getYear());
                case 'H' -> out.append(String.format(pad2, t.getHour()));
                case 'I' -> out.append(String.format(pad2, (t.getHour() + 11) % 12 + 1));
                case 'M' -> out.append(String.format(pad2, t.getMinute()));
                case 'S' -> out.append(String.format(pad2, t.getSecond()));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> out.append(String.format(unpadded ? "%d" : "%03d", t.getDayOfYear()));
                case 'Z' -> out.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'z' -> out.append(t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", ""));
                case '%' -> out.append('%');
                default -> out.append('%').append(unpadded ? "-" : "").append(d);
            }
        }
        return out.toString();
    }

    /** The template source with the rewrites listed in the class comment applied. */
    static String adapt(String source) {
        String s = REVERSE_SLICE.matcher(source).replaceAll(Matcher.quoteReplacement("|reverse"));
        return parenthesiseNamespaceArguments(s);
    }

    private static String parenthesiseNamespaceArguments(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = NAMESPACE_CALL.matcher(s);
        int copied = 0;
        while (m.find(copied)) {
            int open = m.end();
            int close = matchingParenthesis(s, open);
            if (close < 0) {
                break;
            }
            out.append(s, copied, open);
            String separator = "";
            for (String argument : topLevelArguments(s.substring(open, close))) {
                Matcher k = KEYWORD.matcher(argument);
                out.append(separator).append(k.matches() ? k.group(1) + "(" + k.group(2).strip() + ")" : argument);
                separator = ",";
            }
            out.append(')');
            copied = close + 1;
        }
        return out.append(s, copied, s.length()).toString();
    }

    /** Index of the ')' closing the call whose arguments start at {@code from}, or -1. */
    private static int matchingParenthesis(String s, int from) {
        int depth = 0;
        char quote = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) {
                    return c == ')' ? i : -1;
                }
                depth--;
            }
        }
        return -1;
    }

    private static java.util.List<String> topLevelArguments(String arguments) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        int depth = 0;
        char quote = 0;
        int start = 0;
        for (int i = 0; i < arguments.length(); i++) {
            char c = arguments.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if (c == ')' || c == ']' || c == '}') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(arguments.substring(start, i));
                start = i + 1;
            }
        }
        if (!arguments.isBlank()) {
            parts.add(arguments.substring(start));
        }
        return parts;
    }

    /** Thrown by {@code raise_exception}; turned into a {@link ChatTemplateException} by the renderer. */
    static final class TemplateRaisedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaisedException(String message) {
            super(message, null, false, false);
        }
    }
}
