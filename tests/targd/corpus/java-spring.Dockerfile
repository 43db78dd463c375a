FROM eclipse-temurin:21-jdk AS build
WORKDIR /workspace
COPY gradlew settings.gradle build.gradle ./
COPY gradle gradle
RUN ./gradlew --no-daemon dependencies
COPY src src
RUN ./gradlew --no-daemon bootJar

FROM eclipse-temurin:21-jdk
WORKDIR /workspace
COPY --from=build /workspace/build/libs/app.jar app.jar
RUN java -Djarmode=layertools -jar app.jar extract

FROM eclipse-temurin:21-jre AS integration
COPY --from=0 /workspace/build/libs/app.jar /app.jar
RUN java -jar /app.jar --selftest

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=1 /workspace/dependencies/ ./
# the RUN keeps the classic builder from hitting moby#37965 between COPYs
RUN true
COPY --from=1 /workspace/spring-boot-loader/ ./
RUN true
COPY --from=1 /workspace/application/ ./
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
