package dev.amalgam.cli;

import dev.amalgam.fusionservice.FusionServiceApplication;
import dev.amalgam.gateway.GatewayApplication;
import dev.amalgam.mergeservice.MergeServiceApplication;
import dev.amalgam.pruningservice.PruningServiceApplication;
import java.util.concurrent.Callable;
import org.springframework.boot.SpringApplication;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * {@code amalgam serve SERVICE}: one service on its own, configured by its YAML file and the
 * environment (SPRING_DATASOURCE_URL, AMALGAM_ROLE, ...). This is what containers and Kubernetes run.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run one service (gateway, merge-service, pruning-service, fusion-service) against an external PostgreSQL.")
class ServeCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "gateway, merge-service, pruning-service or fusion-service")
    String service;

    @Unmatched
    String[] springArgs = new String[0];

    @Override
    public Integer call() {
        SpringApplication app = switch (service) {
            case "gateway" -> GatewayApplication.application();
            case "merge-service" -> MergeServiceApplication.application();
            case "pruning-service" -> PruningServiceApplication.application();
            case "fusion-service" -> FusionServiceApplication.application();
            default -> throw new IllegalArgumentException(
                    "unknown service '" + service + "': expected gateway, merge-service, pruning-service or fusion-service");
        };
        app.run(springArgs);
        UpCommand.markRunning();
        return 0;
    }
}
