package dev.relay.faults;

import java.util.Arrays;

/**
 * Runs {@code kafka.Kafka} with a watchdog: when the suite's JVM (first argument) is gone, the broker halts too,
 * so a suite killed in the middle leaks no broker. The other arguments go to {@code kafka.Kafka}.
 */
public final class BrokerMain {

    private BrokerMain() {
    }

    public static void main(String[] args) throws Exception {
        long parent = Long.parseLong(args[0]);
        Thread watchdog = new Thread(() -> {
            while (ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
            Runtime.getRuntime().halt(3);
        }, "suite-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        kafka.Kafka.main(Arrays.copyOfRange(args, 1, args.length));
    }
}
