package dev.gearbx.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GSM8K-style task files and answer extraction. */
class TasksTest {
    @TempDir
    Path tmp;

    @Test
    void expectedValueIsAfterTheLastMark() {
        assertEquals("72", Tasks.expected("Natalia sold 48/2 = 24 clips in May.\n48+24 = 72\n#### 72"));
        assertEquals("1000", Tasks.expected("#### 1,000"));
        assertEquals("5", Tasks.expected("5"));
    }

    @Test
    void modelAnswerIsTheNumberAfterTheMarkElseTheLastNumber() {
        assertEquals("18", Tasks.extract("9 + 9 = 18\n#### 18\nQuestion: what", "18"));
        assertEquals("-3.5", Tasks.extract("so x = -3.5.", "2"));
        assertEquals("42", Tasks.extract("first 7, then 6, so 42", "42"));
        assertEquals("1234", Tasks.extract("#### $1,234.", "1234"));
        assertNull(Tasks.extract("no digits here", "5"));
    }

    @Test
    void textAnswerIsTheFirstLine() {
        String expected = Tasks.expected("Hello! How can I help? #### Hello! How can I help?");
        assertEquals("Hello! How can I help?", expected);
        String got = Tasks.extract(" Hello! How can I help?\nQ: next", expected);
        assertTrue(Tasks.matches(expected, got), got);
        assertFalse(Tasks.matches(expected, Tasks.extract(" Goodbye.", expected)));
    }

    @Test
    void numbersMatchByValue() {
        assertTrue(Tasks.matches("18", "18.0"));
        assertFalse(Tasks.matches("18", "81"));
        assertFalse(Tasks.matches("18", null));
        assertTrue(Tasks.matches("yes", "Yes"));
    }

    @Test
    void generationIsCompleteOnceTheMarkLineEnds() {
        assertFalse(Tasks.complete("2 + 3 = 5\n#### 5"));
        assertTrue(Tasks.complete("2 + 3 = 5\n#### 5\n"));
        assertFalse(Tasks.complete("no mark\n"));
    }

    @Test
    void readsJsonlWithOptionalLevels() throws IOException {
        Path f = tmp.resolve("t.jsonl");
        Files.writeString(f, """
                {"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5", "level": 1}

                {"question": "What is 4 * 5?", "answer": "#### 20"}
                """);
        List<Tasks.Task> tasks = Tasks.read(f, 0);
        assertEquals(2, tasks.size());
        assertEquals("5", tasks.get(0).expected());
        assertEquals("1", tasks.get(0).level());
        assertNull(tasks.get(1).level());
        assertEquals(1, Tasks.read(f, 1).size());
        assertEquals(18, Tasks.read(null, 0).size());
    }

    @Test
    void malformedLineIsNamed() throws IOException {
        Path f = tmp.resolve("bad.jsonl");
        Files.writeString(f, "{\"question\": \"q\", \"answer\": \"#### 1\"}\n{\"question\": 3}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tasks.read(f, 0));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("question"), e.getMessage());
    }
}
