package dev.gearbx.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbx.demo.DemoModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12: {@code gearbx chat} in a pseudo-terminal (Python's {@code pty} module drives a real
 * {@code java} process): a question and its answer coloured by gear, Ctrl-C during a second answer
 * stops that answer but not the program, then {@code /exit}.
 */
class ChatPtyTest {
    private static final String ESC = "\u001b[";

    @Test
    void questionAnswerCtrlCDuringTheSecondAnswerThenExit(@TempDir Path dir) throws Exception {
        assumeTrue(python3HasPty(), "needs python3 with its pty module to drive a pseudo-terminal");
        Path script = dir.resolve("chat_pty.py");
        try (InputStream in = ChatPtyTest.class.getResourceAsStream("chat_pty.py")) {
            Files.copy(in, script);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder("python3", script.toString(), java,
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), GearbxCli.class.getName(),
                "chat", "--model", DemoModel.path().toString(), "--max-tokens", "120")
                .redirectErrorStream(false);
        pb.environment().remove("NO_COLOR");
        pb.environment().put("TERM", "xterm");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the pty driver ended");
        assertEquals(0, p.exitValue(), "pty driver: " + out + err);

        JsonNode r = new ObjectMapper().readTree(out);
        List<String> s = new ObjectMapper().convertValue(r.get("segments"), new com.fasterxml.jackson.core.type.TypeReference<>() {});
        assertEquals(3, s.size(), out);
        s.forEach(segment -> System.out.println("[pty] " + plain(segment).replace("\r", "")));
        assertTrue(s.get(0).contains("gearbx chat with gearbx-demo"), s.get(0));

        String first = s.get(1);
        assertTrue(first.contains(ESC + "32m") || first.contains(ESC + "33m") || first.contains(ESC + "31m"),
                "coloured by gear on a terminal: " + first);
        assertTrue(plain(first).contains("347 + 128 = 475"), "the answer: " + plain(first));
        assertFalse(first.contains(ChatCommand.STOPPED.strip()), first);

        String second = plain(s.get(2));
        assertTrue(second.contains(ChatCommand.STOPPED.strip()), "Ctrl-C stopped the second answer: " + second);
        String partial = second.substring(second.indexOf('\n') + 1, second.indexOf(ChatCommand.STOPPED.strip())).replace("^C", "");
        assertTrue(partial.strip().length() >= 6, "part of the answer was shown before Ctrl-C: " + second);
        assertEquals(0, r.get("status").asInt(), "/exit after Ctrl-C ends the program normally");
    }

    @Test
    void noColorTurnsColoursOffAndTheFlagWins() {
        assertTrue(Terminal.colours(null, Map.of("TERM", "xterm"), true));
        assertFalse(Terminal.colours(null, Map.of("TERM", "xterm", "NO_COLOR", "1"), true));
        assertTrue(Terminal.colours(null, Map.of("TERM", "xterm", "NO_COLOR", ""), true), "an empty NO_COLOR does not count");
        assertFalse(Terminal.colours(null, Map.of("TERM", "dumb"), true));
        assertFalse(Terminal.colours(null, Map.of(), false), "not a terminal");
        assertTrue(Terminal.colours(Boolean.TRUE, Map.of("NO_COLOR", "1"), false), "--color wins");
    }

    private static String plain(String s) {
        return s.replaceAll("\u001b\\[[0-9;]*m", "");
    }

    private static boolean python3HasPty() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import pty, json").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
