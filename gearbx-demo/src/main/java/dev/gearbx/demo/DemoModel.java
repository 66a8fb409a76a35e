package dev.gearbx.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * The embedded default model: a small character-level Llama that gearbx trained on {@link DemoCorpus} (see the model
 * card {@code MODEL_CARD.md} next to it in this module). It is a classpath resource; {@link #path()} copies it once
 * into the temporary folder so it can be memory-mapped like any GGUF file.
 *
 * <pre>{@code
 * LlamaModel model = LlamaModel.load(DemoModel.path());
 * }</pre>
 */
public final class DemoModel {
    /** The classpath resource holding the GGUF file. */
    public static final String RESOURCE = "/dev/gearbx/demo/gearbx-demo.gguf";
    /** The prompt the README and the CLI use by default. */
    public static final String DEFAULT_PROMPT = "Q: What is 347 + 128?\nA:";

    private static final System.Logger LOG = System.getLogger(DemoModel.class.getName());
    private static volatile @Nullable Path extracted;

    private DemoModel() {}

    /** Whether the resource is on the classpath. */
    public static boolean isEmbedded() {
        return DemoModel.class.getResource(RESOURCE) != null;
    }

    /**
     * A file holding the model: {@code gearbx-demo-<crc32>.gguf} in {@code java.io.tmpdir}, written on first use (the
     * name carries the content's checksum, so a stale copy is never used).
     *
     * @throws IllegalStateException if the resource is missing from the classpath
     * @throws UncheckedIOException if the copy cannot be written
     */
    public static Path path() {
        Path p = extracted;
        if (p != null && Files.isRegularFile(p)) {
            return p;
        }
        synchronized (DemoModel.class) {
            byte[] bytes;
            try (InputStream in = DemoModel.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("the embedded model " + RESOURCE + " is not on the classpath (add gearbx-demo)");
                }
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
            CRC32 crc = new CRC32();
            crc.update(bytes);
            Path target = Path.of(System.getProperty("java.io.tmpdir"), "gearbx-demo-" + HexFormat.of().toHexDigits((int) crc.getValue()) + ".gguf");
            try {
                if (!Files.isRegularFile(target) || Files.size(target) != bytes.length) {
                    Path tmp = Files.createTempFile(target.getParent(), "gearbx-demo", ".part");
                    Files.write(tmp, bytes);
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    LOG.log(System.Logger.Level.DEBUG, "embedded model copied to {0}", target);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy the embedded model to " + target, e);
            }
            extracted = target;
            return target;
        }
    }
}
