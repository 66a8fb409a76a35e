package dev.gearbx.examples.spring;

import dev.gearbx.reactive.server.TelemetryHub;
import dev.gearbx.demo.DemoModel;
import dev.gearbx.engine.routing.RoutingOptions;
import dev.gearbx.reactive.Gearbx;
import dev.gearbx.reactive.GearbxModel;
import dev.gearbx.reactive.metrics.GearbxMetrics;
import dev.gearbx.reactive.server.Dashboard;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/** The model bean (closed with the context), its meters, the telemetry fan-out and the dashboard files. */
@Configuration(proxyBeanMethods = false)
class GearbxConfiguration {
    private static final System.Logger LOG = System.getLogger(GearbxConfiguration.class.getName());

    @Bean(destroyMethod = "close")
    GearbxModel gearbxModel(GearbxProperties p) {
        String model = p.model() == null || p.model().isBlank() ? DemoModel.path().toString() : p.model();
        RoutingOptions.Builder routing = Gearbx.DEFAULT_ROUTING.toBuilder();
        if (p.thresholds() != null) {
            routing.thresholds(p.thresholds().low(), p.thresholds().high());
        }
        Gearbx.Builder b = Gearbx.builder().model(model).routing(routing.build()).maxTokens(p.maxTokens());
        if (p.backend() != null && !p.backend().isBlank()) {
            b = b.backend(p.backend());
        }
        GearbxModel m = b.build();
        LOG.log(System.Logger.Level.INFO, "gearbx model '" + p.modelId() + "' from " + model + " on " + m.backendName()
                + ", thresholds " + m.thresholds());
        return m;
    }

    /** The gearbx meters ({@code gearbx.tokens}, {@code gearbx.entropy}, ...), bound by Boot to its registry. */
    @Bean(destroyMethod = "close")
    GearbxMetrics gearbxMetrics(GearbxModel model) {
        return new GearbxMetrics(model);
    }

    @Bean
    TelemetryHub telemetry() {
        return new TelemetryHub();
    }

    /** The dashboard of {@code gearbx serve}, from the same class-path files: {@code /dashboard} and its assets. */
    @Bean
    RouterFunction<ServerResponse> dashboardRoutes() {
        ClassPathResource folder = new ClassPathResource(Dashboard.RESOURCE_FOLDER);
        return RouterFunctions.route()
                .GET("/dashboard", req -> ServerResponse.ok().contentType(org.springframework.http.MediaType.TEXT_HTML)
                        .bodyValue(new ClassPathResource(Dashboard.RESOURCE_FOLDER + "index.html")))
                .build()
                .and(RouterFunctions.resources("/dashboard/**", folder));
    }
}
