package dev.gearbx.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gearbx.reactive.spi.Availability;
import dev.gearbx.reactive.spi.BackendProvider;
import dev.gearbx.reactive.spi.Backends;
import org.junit.jupiter.api.Test;

/** Runs everywhere: the provider is found and answers without throwing, usable or not. */
class CudaProviderTest {

    @Test
    void foundByServiceLoaderAndAnswersWithAReason() {
        BackendProvider cuda = Backends.discover().stream().filter(p -> p.name().equals("cuda")).findFirst()
                .orElseThrow(() -> new AssertionError("no 'cuda' provider among " + Backends.discover()));
        assertEquals(100, cuda.rank());
        Availability a = cuda.availability();
        assertFalse(a.reason().isBlank(), "the availability must say why");
        System.out.println("cuda availability here: " + a);
    }

    @Test
    void selectionFallsBackToCpuWithTheReasonWhenCudaIsUnusable() {
        Availability a = new CudaBackendProvider().availability();
        Backends.Selection s = Backends.select(null, Backends.discover());
        if (a.usable()) {
            assertEquals("cuda", s.chosen().name());
        } else {
            assertEquals("cpu", s.chosen().name());
            assertTrue(s.others().get("cuda").contains(a.reason()), s.describe());
        }
    }

    @Test
    void ptxIsPackagedWhenNvccWasThere() {
        boolean nvcc = java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/local/cuda/bin/nvcc"));
        if (nvcc) {
            byte[] ptx = CudaDevice.ptx();
            assertTrue(ptx != null && new String(ptx, java.nio.charset.StandardCharsets.US_ASCII).contains(".entry gemv_low"),
                    "the nvcc profile should have packaged gearbx.ptx with the gemv_low kernel");
            byte[] hopper = CudaDevice.class.getResourceAsStream(CudaDevice.PTX_SM90_RESOURCE) == null ? null
                    : readResource(CudaDevice.PTX_SM90_RESOURCE);
            assertTrue(hopper != null && new String(hopper, java.nio.charset.StandardCharsets.US_ASCII)
                    .contains("griddepcontrol.wait"), "the nvcc profile should have packaged gearbx-sm90.ptx with "
                    + "the dependent-launch handshake");
        }
    }

    private static byte[] readResource(String name) {
        try (java.io.InputStream in = CudaDevice.class.getResourceAsStream(name)) {
            return java.util.Objects.requireNonNull(in, name).readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
