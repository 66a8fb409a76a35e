package dev.gearbx.examples;

import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jspecify.annotations.Nullable;

/** What the terminal supports: colours (NO_COLOR respected) and progress bars on stderr. */
final class Terminal {
    private Terminal() {}

    /** Whether standard output is an interactive terminal. */
    static boolean isTerminal() {
        return System.console() != null && System.console().isTerminal();
    }

    /**
     * Whether to colour output: an explicit {@code --color}/{@code --no-color} wins; otherwise yes only
     * on a terminal, with {@code NO_COLOR} unset or empty (no-color.org) and {@code TERM} not
     * {@code dumb}.
     */
    static boolean colours(@Nullable Boolean option, Map<String, String> env, boolean terminal) {
        if (option != null) {
            return option;
        }
        String noColor = env.get("NO_COLOR");
        if (noColor != null && !noColor.isEmpty()) {
            return false;
        }
        return terminal && !"dumb".equals(env.get("TERM"));
    }

    static boolean colours(@Nullable Boolean option) {
        return colours(option, System.getenv(), isTerminal());
    }

    /**
     * A progress bar on stderr while a task runs, or nothing when stderr is not a terminal. A total
     * of -1 gives an indefinite bar (elapsed time only), for tasks that report no progress.
     */
    static Bar progress(String task, long total) {
        if (!isTerminal()) {
            return new Bar(null);
        }
        return new Bar(new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                .continuousUpdate().build());
    }

    /** A progress bar that may be absent; closing it finishes the line. */
    static final class Bar implements AutoCloseable {
        private final @Nullable ProgressBar bar;

        private Bar(@Nullable ProgressBar bar) {
            this.bar = bar;
        }

        void step() {
            if (bar != null) {
                bar.step();
            }
        }

        /** Sets the total once it is known (an indefinite bar becomes a definite one). */
        void total(long n) {
            if (bar != null) {
                bar.maxHint(n);
            }
        }

        void stepTo(long n) {
            if (bar != null) {
                bar.stepTo(n);
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
