package dev.gearbx.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gearbx.demo.DemoModel;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.remote.RemoteWebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import picocli.CommandLine;

/**
 * Issue 12: the dashboard of {@code gearbx serve}, end to end in headless Chromium (Debian's
 * {@code chromium} and {@code chromedriver}; {@code .ci/run} installs them): the page connects to
 * the telemetry, a generation started from its form shows tokens coloured by gear, the entropy
 * trace, shares, tokens/s and shifts, and a screenshot is saved to {@code target/dashboard.png}.
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of(System.getProperty("gearbx.chromium", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("gearbx.chromedriver", "/usr/bin/chromedriver"));
    /** The gear colours of dashboard.css, as the browser computes them. */
    private static final Map<String, String> GEAR_COLOURS = Map.of(
            "gear-low", "rgba(46, 157, 79, 1)", "gear-mid", "rgba(217, 164, 0, 1)", "gear-high", "rgba(212, 61, 61, 1)");

    @Test
    void generationShowsTokensColouredByGearLiveInChromium() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromedriver (apt-get install -y chromium chromium-driver; .ci/run installs them): "
                        + CHROMIUM + " or " + CHROMEDRIVER + " not found");
        StringWriter out = new StringWriter();
        CommandLine cli = GearbxCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(
                () -> cli.execute("serve", "--model", DemoModel.path().toString(), "--id", "gearbx-demo", "--port", "0"));
        Session session = null;
        try {
            String base = baseUrl(out, code);
            session = chromium();
            WebDriver browser = session.driver();
            browser.get(base + "/dashboard");
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.until(d -> "live".equals(d.findElement(By.id("connection")).getText()));
            wait.until(d -> !d.findElements(By.cssSelector("#model option")).isEmpty());

            ask(browser, "What is 347 + 128?");
            WebElement stream = wait.until(d -> d.findElements(By.cssSelector(".stream")).stream().findFirst().orElse(null));
            wait.until(d -> !stream.getAttribute("class").contains("running"));
            ask(browser, "Say hi.");
            wait.until(d -> d.findElements(By.cssSelector(".stream")).size() == 2
                    && d.findElements(By.cssSelector(".stream.running")).isEmpty());

            List<WebElement> tokens = stream.findElements(By.cssSelector(".tokens .tok"));
            assertTrue(tokens.size() > 5, "tokens shown: " + tokens.size());
            StringBuilder text = new StringBuilder();
            for (WebElement t : tokens) {
                String gear = t.getAttribute("class").replaceAll(".*\\b(gear-(low|mid|high))\\b.*", "$1");
                assertTrue(GEAR_COLOURS.containsKey(gear), "a gear class on " + t.getAttribute("class"));
                assertEquals(GEAR_COLOURS.get(gear), t.getCssValue("background-color"), "colour of a " + gear + " token");
                text.append(t.getAttribute("textContent"));
            }
            assertTrue(text.toString().contains("347 + 128"), "the answer as shown: " + text);
            assertEquals(tokens.size(), Integer.parseInt(stream.findElement(By.cssSelector(".stats .count b")).getText()));
            assertTrue(Double.parseDouble(stream.findElement(By.cssSelector(".stats .tps b")).getText()) > 0);
            stream.findElement(By.cssSelector(".stats .shifts b"));
            assertTrue(!stream.findElements(By.cssSelector(".shares div")).isEmpty(), "gear shares bar");
            assertTrue(stream.findElement(By.cssSelector("svg.trace polyline.entropy")).getAttribute("points").split(" ").length
                    == tokens.size(), "one entropy point per token");
            assertEquals(2, stream.findElements(By.cssSelector("svg.trace line.threshold")).size(), "low and high thresholds");

            Path png = Path.of("target", "dashboard.png");
            Files.createDirectories(png.getParent());
            Files.copy(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(), png, StandardCopyOption.REPLACE_EXISTING);
            assertTrue(Files.size(png) > 10_000, "screenshot " + png.toAbsolutePath());
        } finally {
            if (session != null) {
                session.close();
            }
            ((ServeCommand) cli.getSubcommands().get("serve").getCommand()).stop();
        }
        assertEquals(0, code.get(20, TimeUnit.SECONDS));
    }

    private static void ask(WebDriver browser, String question) {
        WebElement prompt = browser.findElement(By.id("prompt"));
        prompt.clear();
        prompt.sendKeys(question);
        browser.findElement(By.id("send")).click();
    }

    private static String baseUrl(StringWriter out, CompletableFuture<Integer> code) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        Matcher url;
        while (!(url = Pattern.compile("at (http://127\\.0\\.0\\.1:\\d+)/v1").matcher(out.toString())).find()) {
            if (System.nanoTime() > deadline || code.isDone()) {
                throw new AssertionError("gearbx serve printed no URL: " + out + (code.isDone() ? " exit " + code.get() : ""));
            }
            Thread.sleep(20);
        }
        return url.group(1);
    }

    private static Session chromium() throws IOException {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,860", "--user-data-dir=" + Files.createTempDirectory("gearbx-chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                .usingAnyFreePort()
                .build();
        service.start();
        // plain WebDriver protocol: ChromeDriver would also open a DevTools websocket, which nothing
        // here uses and which hangs for minutes on some machines
        return new Session(new RemoteWebDriver(service.getUrl(), options), service);
    }

    /** The browser and its chromedriver process, ended together. */
    private record Session(RemoteWebDriver driver, ChromeDriverService service) implements AutoCloseable {
        @Override
        public void close() {
            try {
                driver.quit();
            } finally {
                service.stop();
            }
        }
    }
}
