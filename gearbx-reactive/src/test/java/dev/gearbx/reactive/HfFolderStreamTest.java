package dev.gearbx.reactive;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gearbx.engine.gear.Gear;
import dev.gearbx.engine.hf.HfConverter;
import dev.gearbx.engine.routing.RoutingOptions;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Hugging Face folder (stories260K exported by gearbx) streams through the reactive API like the GGUF. */
class HfFolderStreamTest {

    @Test
    void folderStreamsTheReferenceText(@TempDir Path dir) {
        Path folder = dir.resolve("stories260K");
        HfConverter.toHuggingFace(ReactiveModels.stories260K(), folder, Long.MAX_VALUE);
        try (GearbxModel model = Gearbx.builder().model(folder.toString()).build()) {
            String text = model.stream("Once upon a time", StreamOptions.builder().maxTokens(32)
                            .routing(RoutingOptions.pinned(Gear.HIGH)).build())
                    .map(StreamChunk::text).collectList().block().stream().collect(Collectors.joining());
            assertEquals(", there was a little girl named Lily. She loved to play outside in the park. One day, she saw", text);
        }
    }
}
