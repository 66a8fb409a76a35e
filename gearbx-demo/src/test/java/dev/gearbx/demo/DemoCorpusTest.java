package dev.gearbx.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DemoCorpusTest {

    @Test
    void sameSeedSameCorpus() {
        List<String> a = DemoCorpus.training(42).limit(500).map(DemoCorpus.Exchange::document).toList();
        List<String> b = DemoCorpus.training(42).limit(500).map(DemoCorpus.Exchange::document).toList();
        List<String> c = DemoCorpus.training(43).limit(500).map(DemoCorpus.Exchange::document).toList();
        assertThat(a).isEqualTo(b).isNotEqualTo(c);
    }

    @Test
    void theFirstDocumentsOfSeedOneArePinned() {
        // the committed model was trained on seed 1: a change to the generator must be deliberate
        List<String> first = DemoCorpus.training(1).limit(3).map(DemoCorpus.Exchange::document).toList();
        assertThat(first).containsExactly(
                "Q: Work out 295 + 717.\nA: Adding them up: 295 + 717 = 1012. Hope that helps!\n",
                "Q: What is 60266 + 38260?\nA: Adding them up: 60266 + 38260 = 98526. Hope that helps!\n",
                "Q: Compute 92 + 61.\nA: Adding them up: 92 + 61 = 153. Hope that helps!\n");
    }

    @Test
    void answerSpansHoldTheExpectedAnswer() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (DemoCorpus.Level level : DemoCorpus.Level.values()) {
            for (int i = 0; i < 200; i++) {
                DemoCorpus.Exchange e = DemoCorpus.next(rnd, level);
                assertThat(e.completion().substring(e.answerStart(), e.answerEnd())).isEqualTo(e.expected());
                assertThat(e.document()).startsWith("Q: ").contains("\nA: ").endsWith("\n");
                if (level != DemoCorpus.Level.TRIVIAL) {
                    assertThat(DemoCorpus.extractAnswer(e.completion())).isEqualTo(e.expected());
                    assertThat(Long.parseLong(e.expected())).isNotNegative();
                } else {
                    assertThat(e.reply()).doesNotContainPattern("\\d");
                }
            }
        }
    }

    @Test
    void levelsHaveTheirOperandSizes() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 500; i++) {
            assertThat(DemoCorpus.next(rnd, DemoCorpus.Level.EASY).question()).matches("\\D*\\d{1,2} [+-] \\d{1,2}\\D*");
            assertThat(DemoCorpus.next(rnd, DemoCorpus.Level.MEDIUM).question())
                    .matches("\\D*(\\d{3} [+-] \\d{3}|\\d{2} \\* \\d)\\D*");
            assertThat(DemoCorpus.next(rnd, DemoCorpus.Level.HARD).question())
                    .matches("\\D*(\\d{5} [+-] \\d{5}|\\d{3} \\* \\d{2})\\D*");
        }
    }

    @Test
    void trainingMixesTheLevels() {
        Map<DemoCorpus.Level, Integer> counts = new EnumMap<>(DemoCorpus.Level.class);
        DemoCorpus.training(9).limit(20_000).forEach(e -> counts.merge(e.level(), 1, Integer::sum));
        assertThat(counts.get(DemoCorpus.Level.TRIVIAL)).isBetween(4_600, 5_400);
        assertThat(counts.get(DemoCorpus.Level.EASY)).isBetween(3_600, 4_400);
        assertThat(counts.get(DemoCorpus.Level.MEDIUM)).isBetween(4_600, 5_400);
        assertThat(counts.get(DemoCorpus.Level.HARD)).isBetween(5_600, 6_400);
    }

    @Test
    void evaluationHasEachLevelInOrder() {
        List<DemoCorpus.Exchange> eval = DemoCorpus.evaluation(7, 3);
        assertThat(eval).extracting(DemoCorpus.Exchange::level).containsExactly(
                DemoCorpus.Level.TRIVIAL, DemoCorpus.Level.TRIVIAL, DemoCorpus.Level.TRIVIAL,
                DemoCorpus.Level.EASY, DemoCorpus.Level.EASY, DemoCorpus.Level.EASY,
                DemoCorpus.Level.MEDIUM, DemoCorpus.Level.MEDIUM, DemoCorpus.Level.MEDIUM,
                DemoCorpus.Level.HARD, DemoCorpus.Level.HARD, DemoCorpus.Level.HARD);
        assertThatThrownBy(() -> DemoCorpus.evaluation(7, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("perLevel").hasMessageContaining("0");
    }

    @Test
    void extractsGsm8kStyleAnswers() {
        assertThat(DemoCorpus.extractAnswer(" Adding them up: 12 + 30 = 42. Hope that helps!\n")).isEqualTo("42");
        assertThat(DemoCorpus.extractAnswer("so 5 apples #### 17")).isEqualTo("17");
        assertThat(DemoCorpus.extractAnswer("it is -3")).isEqualTo("-3");
        assertThat(DemoCorpus.extractAnswer("no number here")).isNull();
    }
}
