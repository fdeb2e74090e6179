# One image for every service: `amalgam serve <service>` picks which (see docker-compose.yml, k8s/).
# CPU PyTorch natives come from Maven Central inside the jar. For GPU workers, build FROM an image
# with libtorch 2.7.1 for CUDA and set PYTORCH_LIBRARY_PATH to its lib directory (DJL then uses it).
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY . .
RUN ./mvnw -q -B -DskipTests -pl cli -am package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 1000 amalgam && mkdir -p /data && chown amalgam /data
COPY --from=build /src/cli/target/amalgam.jar /opt/amalgam/amalgam.jar
USER amalgam
ENV AMALGAM_DATA_DIR=/data
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/opt/amalgam/amalgam.jar"]
CMD ["serve", "gateway"]
