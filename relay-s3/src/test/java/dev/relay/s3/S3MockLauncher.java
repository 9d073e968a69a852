package dev.relay.s3;

/**
 * The main class of the S3Mock child process: starts the {@link ParentWatch}, then S3Mock's own launcher from its
 * executable jar (on the child's class path beside this class), so that S3Mock ends with the test JVM.
 */
public final class S3MockLauncher {

    private S3MockLauncher() {
    }

    /**
     * @param args S3Mock's arguments
     * @throws Exception if S3Mock cannot start
     */
    public static void main(String[] args) throws Exception {
        ParentWatch.start();
        Class.forName("org.springframework.boot.loader.launch.JarLauncher").getMethod("main", String[].class)
                .invoke(null, (Object) args);
    }
}
