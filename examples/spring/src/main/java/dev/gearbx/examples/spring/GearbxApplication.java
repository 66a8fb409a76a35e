package dev.gearbx.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Starts the app: the embedded demo model unless {@code gearbx.model} names another GGUF file.
 *
 * <pre>{@code
 * java -jar gearbx-examples-spring.jar --server.port=8080 --gearbx.thresholds.low=0.5
 * curl -N localhost:8080/generate -H 'Content-Type: application/json' -d '{"prompt":"Q: What is 2 + 2?\nA:"}'
 * }</pre>
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GearbxApplication {
    public static void main(String[] args) {
        SpringApplication.run(GearbxApplication.class, args);
    }
}
